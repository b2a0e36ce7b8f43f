import Prometheus

/// One metric family for `GET /metrics`: its name, help, kind, and a value per label set.
/// Both servers build their families from what they already count, at each scrape: the
/// figures are the status document's, so the two never disagree.
public struct MetricFamily: Sendable {
    public enum Kind: Sendable {
        case counter, gauge
    }

    public var name: String
    public var help: String
    public var kind: Kind
    public var samples: [(labels: [(String, String)], value: Double)] = []

    public init(_ name: String, _ kind: Kind, help: String) {
        self.name = name
        self.kind = kind
        self.help = help
    }

    public mutating func add(_ value: some BinaryInteger, _ labels: [(String, String)] = []) {
        samples.append((labels, Double(value)))
    }

    public mutating func add(_ value: Double, _ labels: [(String, String)] = []) {
        samples.append((labels, value))
    }
}

/// The Prometheus text format of `families`, written by swift-prometheus (label values
/// escaped, HELP and TYPE lines) from a registry made for this one scrape.
public enum MetricsExposition {
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    public static func text(_ families: [MetricFamily]) -> [UInt8] {
        let registry = PrometheusCollectorRegistry()
        for family in families {
            // A family is labelled throughout or not at all (the registry stops the process
            // on a mix): one without labels takes its first sample only.
            let labelled = family.samples.contains { !$0.labels.isEmpty }
            // The whole name is ours (softcopy_…_total): no namespace or unit is added.
            let descriptor = MetricNameDescriptor(metricName: family.name, unitName: "", helpText: family.help)
            for sample in family.samples where labelled ? !sample.labels.isEmpty : true {
                switch family.kind {
                case .counter:
                    let counter = labelled
                        ? registry.makeCounter(descriptor: descriptor, labels: sample.labels)
                        : registry.makeCounter(descriptor: descriptor)
                    counter.increment(by: sample.value)
                case .gauge:
                    let gauge = labelled
                        ? registry.makeGauge(descriptor: descriptor, labels: sample.labels)
                        : registry.makeGauge(descriptor: descriptor)
                    gauge.set(sample.value)
                }
                if !labelled { break }
            }
        }
        var out: [UInt8] = []
        registry.emit(into: &out)
        return out
    }
}
