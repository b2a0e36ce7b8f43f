/// A watched folder (`watch:` in a targets file): every archive that appears under
/// `folder` whose folder name matches `pattern` becomes a copy job, to the destination
/// `destination` names (a `DestinationTemplate`). `options` carries the per-target keys
/// (writer, placement, remove_source, notify, ...); its source and destination are empty.
public struct WatchSpec: Sendable, Hashable {
    /// Absolute, lexically normalised.
    public var folder: String
    /// An fnmatch(3) pattern for an archive's folder name (default `*.zarr`).
    public var pattern: String
    /// Where each archive's copy goes; absolute after `{...}` are filled in.
    public var destination: DestinationTemplate
    /// The destination as written, for agents (relative to their data roots, or absolute).
    public var agentDestination: DestinationTemplate
    public var options: TargetSpec
    /// No change for this long ends an archive's job (else the run's `idle_timeout`, else
    /// `defaultIdleTimeout`): a watched archive has no writer PID to end it.
    public var idleTimeout: Duration?
    /// Where the entry was written, for later errors.
    public var mark: SourceMark?

    public static let defaultPattern = "*.zarr"
    /// How deep under `folder` archives are looked for (date and user folders above them).
    public static let maximumDepth = 4
    public static let defaultIdleTimeout: Duration = .seconds(1800)

    public init(folder: String, pattern: String = WatchSpec.defaultPattern, destination: DestinationTemplate,
                agentDestination: DestinationTemplate, options: TargetSpec, mark: SourceMark? = nil) {
        self.folder = folder
        self.pattern = pattern
        self.destination = destination
        self.agentDestination = agentDestination
        self.options = options
        self.mark = mark
    }

    /// The target of one archive found under the folder: `relativePath` is its path
    /// below `folder` (`2026-12-07/fish1.zarr`), `date` and `host` fill `{date}` and `{host}`.
    public func target(relativePath: String, date: String, host: String) -> TargetSpec {
        let values = DestinationTemplate.Values(name: PathNormalizer.lastComponent(relativePath), path: relativePath, date: date, host: host)
        var spec = options
        spec.source = PathNormalizer.normalize(folder + "/" + relativePath)
        spec.destination = destination.fill(values)
        spec.agentDestination = agentDestination.fill(values)
        spec.sourceMark = mark
        spec.destinationMark = mark
        return spec
    }
}
