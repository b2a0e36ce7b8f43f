/// A position in a text file, 1-based, for error messages.
public struct SourceMark: Sendable, Hashable, CustomStringConvertible {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public var description: String { "\(line):\(column)" }
}

/// A YAML document as a tree, with the position of every node. The loader (libyaml, in
/// SoftcopyIO) builds it; everything that gives it meaning lives here and is pure.
public indirect enum YAMLNode: Sendable {
    case scalar(String, quoted: Bool, SourceMark)
    case sequence([YAMLNode], SourceMark)
    case mapping([(key: YAMLNode, value: YAMLNode)], SourceMark)

    public var mark: SourceMark {
        switch self {
        case .scalar(_, _, let m), .sequence(_, let m), .mapping(_, let m): m
        }
    }

    /// YAML 1.1/1.2 core-schema null: `~`, `null`, or an empty plain scalar.
    public var isNull: Bool {
        if case .scalar(let s, false, _) = self {
            return s.isEmpty || s == "~" || s == "null" || s == "Null" || s == "NULL"
        }
        return false
    }

    public var kindName: String {
        switch self {
        case .scalar: isNull ? "null" : "a scalar"
        case .sequence: "a list"
        case .mapping: "a mapping"
        }
    }
}
