/// The version this build reports in manifests, status documents and `--version`.
public enum SoftcopyVersion {
    public static let string = "0.1.0"
}
