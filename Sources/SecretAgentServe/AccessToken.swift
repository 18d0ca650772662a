import SecretAgentCore

/// The SSRF token every request must carry in `X-Aws-Parameters-Secrets-Token` (or
/// `X-Vault-Token`), as the AWS Secrets Manager Agent and the Lambda extension require it.
///
/// Compared in constant time: the comparison always walks the whole expected token, whatever
/// the request sent. The token is never logged or printed.
public struct AccessToken: Sendable, CustomStringConvertible {
    let expected: [UInt8]

    /// The headers a token is accepted in, lower-cased.
    public static let headers = ["x-aws-parameters-secrets-token", "x-vault-token"]

    /// A token given directly (tests, embedding).
    public init(_ token: String) {
        expected = Array(token.utf8)
    }

    /// Reads the token: `serve.token_file` when set, else the first of `serve.token_env` that is
    /// set in `environment` (a value `file://PATH` reads that file). Surrounding whitespace is
    /// dropped. No token is a configuration error (exit 78): the API never runs unguarded.
    public static func load(settings: ServeSettings, environment: [String: String]) throws(ServeError) -> AccessToken {
        if let file = settings.tokenFile {
            return try read(file, origin: "serve.token_file")
        }
        for name in settings.tokenEnv {
            guard let value = environment[name], !value.isEmpty else { continue }
            if value.hasPrefix("file://") { return try read(String(value.dropFirst(7)), origin: name) }
            let token = String(value.trimmingWhitespace)
            guard !token.isEmpty else { continue }
            return AccessToken(token)
        }
        throw .config("the local API needs a token and none is set: set \(settings.tokenEnv.joined(separator: " or ")) (the AWS agents' variables), or serve.token_file")
    }

    private static func read(_ path: String, origin: String) throws(ServeError) -> AccessToken {
        guard let text = FileBytes.readText(path) else {
            throw .config("cannot read the local API token file \(path) (from \(origin)): \(FileBytes.lastErrorDescription())")
        }
        let token = String(text.trimmingWhitespace)
        guard !token.isEmpty else { throw .config("the local API token file \(path) (from \(origin)) is empty") }
        return AccessToken(token)
    }

    /// True when `given` is the token; the time taken depends only on the expected token's length.
    public func matches(_ header: String) -> Bool {
        let given = header.utf8
        let count = given.count
        var difference: UInt8 = count == expected.count ? 0 : 1
        if count == 0 {
            for byte in expected { difference |= byte ^ 0 }
            return false
        }
        var index = given.startIndex
        for byte in expected {
            difference |= byte ^ given[index]
            index = given.index(after: index)
            if index == given.endIndex { index = given.startIndex }
        }
        return difference == 0
    }

    public var description: String { "AccessToken(<redacted>)" }
}
