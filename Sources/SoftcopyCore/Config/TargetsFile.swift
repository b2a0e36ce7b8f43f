/// The contents of a targets file: softcopy's format (a top-level `targets:` list of
/// `source`/`destination` maps) plus softcopy-the-cluster's own keys. See
/// `TargetsFile+YAML.swift` for every key and docs/configuration.md for the reference.
public struct TargetsFile: Sendable, Hashable {
    public var targets: [TargetSpec]
    public var settings: CoordinatorSettings
    /// Folders whose archives are copied as they appear (`watch:`).
    public var watches: [WatchSpec]

    public init(targets: [TargetSpec], settings: CoordinatorSettings = CoordinatorSettings(), watches: [WatchSpec] = []) {
        self.targets = targets
        self.settings = settings
        self.watches = watches
    }
}
