/// An S3 identity: from a credentials file in the AWS shared format (`[default]` with
/// `aws_access_key_id` and `aws_secret_access_key`; the first profile if there is no
/// default) or from `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`. Never from the
/// command line, where `ps` shows it.
public struct S3Credentials: Sendable, Equatable {
    public var accessKey: String
    public var secretKey: String

    public init(accessKey: String, secretKey: String) {
        self.accessKey = accessKey
        self.secretKey = secretKey
    }

    /// The identity in a credentials file's text; `file` names it in errors.
    public init(parsing text: String, file: String) throws(ConfigMessage) {
        var profiles: [(name: String, values: [String: String])] = []
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingWhitespace()
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                profiles.append((String(line.dropFirst().dropLast()).trimmingWhitespace(), [:]))
                continue
            }
            guard let equals = line.firstIndex(of: "=") else {
                throw ConfigMessage("\(file):\(n + 1): expected NAME = VALUE or [profile], found '\(line)'")
            }
            if profiles.isEmpty { profiles.append(("default", [:])) }
            profiles[profiles.count - 1].values[String(line[..<equals]).trimmingWhitespace().lowercased()] = String(line[line.index(after: equals)...]).trimmingWhitespace()
        }
        guard let profile = profiles.first(where: { $0.name == "default" }) ?? profiles.first else {
            throw ConfigMessage("\(file) holds no credentials ([default] with aws_access_key_id and aws_secret_access_key)")
        }
        guard let access = profile.values["aws_access_key_id"], !access.isEmpty,
              let secret = profile.values["aws_secret_access_key"], !secret.isEmpty else {
            throw ConfigMessage("profile [\(profile.name)] of \(file) needs aws_access_key_id and aws_secret_access_key")
        }
        self.init(accessKey: access, secretKey: secret)
    }

    /// The identity in the environment, if both variables are set.
    public init?(environment: [String: String]) {
        guard let access = environment["AWS_ACCESS_KEY_ID"], !access.isEmpty,
              let secret = environment["AWS_SECRET_ACCESS_KEY"], !secret.isEmpty else { return nil }
        self.init(accessKey: access, secretKey: secret)
    }
}
