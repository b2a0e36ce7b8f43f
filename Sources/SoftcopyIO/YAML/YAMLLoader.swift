import CYAML
public import SoftcopyCore

/// Loads YAML with the system libyaml into a `YAMLNode` tree that keeps every node's
/// line and column, so configuration errors can point at the culprit.
public enum YAMLLoader {
    /// At most this many aliases per document: enough for any real config, and a bound
    /// against alias bombs.
    static let maximumAliases = 1_000

    /// Parses one YAML document; nil for an empty file. `file` names the file in errors.
    public static func load(_ bytes: [UInt8], file: String) throws(ConfigError) -> YAMLNode? {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else {
            throw ConfigError(file: file, mark: nil, message: "cannot initialise the YAML parser")
        }
        defer { yaml_parser_delete(&parser) }
        // libyaml reads straight from this buffer, which outlives the parse.
        let input = UnsafeMutablePointer<UInt8>.allocate(capacity: max(bytes.count, 1))
        defer { input.deallocate() }
        input.initialize(from: bytes, count: bytes.count)
        yaml_parser_set_input_string(&parser, input, bytes.count)

        enum Frame {
            case sequence([YAMLNode], SourceMark, anchor: String?)
            case mapping([(key: YAMLNode, value: YAMLNode)], pendingKey: YAMLNode?, SourceMark, anchor: String?)
        }
        var stack: [Frame] = []
        var anchors: [String: YAMLNode] = [:]
        var aliases = 0
        var document: YAMLNode?
        var documents = 0

        func mark(_ m: yaml_mark_t) -> SourceMark {
            SourceMark(line: Int(m.line) + 1, column: Int(m.column) + 1)
        }
        func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?, _ length: Int? = nil) -> String? {
            guard let pointer else { return nil }
            if let length {
                return String(decoding: UnsafeBufferPointer(start: pointer, count: length), as: UTF8.self)
            }
            return String(cString: pointer)
        }
        func complete(_ node: YAMLNode, anchor: String?) {
            if let anchor { anchors[anchor] = node }
            guard let top = stack.popLast() else {
                document = node
                return
            }
            switch top {
            case .sequence(var items, let m, let a):
                items.append(node)
                stack.append(.sequence(items, m, anchor: a))
            case .mapping(var pairs, let key, let m, let a):
                if let key {
                    pairs.append((key, node))
                    stack.append(.mapping(pairs, pendingKey: nil, m, anchor: a))
                } else {
                    stack.append(.mapping(pairs, pendingKey: node, m, anchor: a))
                }
            }
        }

        var event = yaml_event_t()
        while true {
            guard yaml_parser_parse(&parser, &event) == 1 else {
                let problem = parser.problem.map { String(cString: $0) } ?? "malformed YAML"
                let context = parser.context.map { String(cString: $0) + ": " } ?? ""
                throw ConfigError(file: file, mark: mark(parser.problem_mark), message: "YAML syntax error: \(context)\(problem)")
            }
            defer { yaml_event_delete(&event) }
            let at = mark(event.start_mark)
            switch event.type {
            case YAML_STREAM_END_EVENT:
                return document
            case YAML_DOCUMENT_START_EVENT:
                documents += 1
                if documents > 1 {
                    throw ConfigError(file: file, mark: at, message: "only one YAML document is allowed (found a second '---')")
                }
            case YAML_SCALAR_EVENT:
                let s = event.data.scalar
                let value = string(s.value, Int(s.length)) ?? ""
                let quoted = s.style != YAML_PLAIN_SCALAR_STYLE && s.style != YAML_ANY_SCALAR_STYLE
                complete(.scalar(value, quoted: quoted, at), anchor: string(s.anchor))
            case YAML_SEQUENCE_START_EVENT:
                stack.append(.sequence([], at, anchor: string(event.data.sequence_start.anchor)))
            case YAML_MAPPING_START_EVENT:
                stack.append(.mapping([], pendingKey: nil, at, anchor: string(event.data.mapping_start.anchor)))
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                switch stack.popLast() {
                case .sequence(let items, let m, let anchor)?:
                    complete(.sequence(items, m), anchor: anchor)
                case .mapping(let pairs, _, let m, let anchor)?:
                    complete(.mapping(pairs, m), anchor: anchor)
                case nil:
                    break
                }
            case YAML_ALIAS_EVENT:
                aliases += 1
                let name = string(event.data.alias.anchor) ?? ""
                guard aliases <= maximumAliases else {
                    throw ConfigError(file: file, mark: at, message: "more than \(maximumAliases) aliases")
                }
                guard let node = anchors[name] else {
                    throw ConfigError(file: file, mark: at, message: "alias '*\(name)' refers to no anchor defined before it")
                }
                complete(node, anchor: nil)
            default:
                break
            }
        }
    }
}
