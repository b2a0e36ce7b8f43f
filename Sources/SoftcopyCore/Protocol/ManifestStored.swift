/// An agent's answer to `PUT /v1/jobs/{job}/manifest/{target}`: where the manifest is.
public struct ManifestStored: ControlMessage, Hashable {
    public static let messageName = "manifest answer"

    public var stored: String

    public init(stored: String) {
        self.stored = stored
    }
}
