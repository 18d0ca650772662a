import FoundationEssentials
import Logging
import SecretAgentCore
import SecretAgentProcess
import SecretTemplate

/// `credential_process` in an AWS profile, as botocore runs it: the profile's string split like a
/// POSIX shell would (quotes and backslashes, no expansion, no shell), run with the agent's
/// environment and `/dev/null` as input, its standard output parsed as
/// `{"Version": 1, "AccessKeyId", "SecretAccessKey", "SessionToken"?, "Expiration"?}`.
///
/// This is how IAM Roles Anywhere (`aws_signing_helper credential-process`), aws-vault,
/// granted and `aws configure export-credentials --format process` deliver credentials.
/// The chain refreshes them before `Expiration` like any temporary credentials; without one
/// they are used until AWS rejects them. The command runs through the process layer's
/// ``ChildProcess`` (the signal hub reaps it) and is killed after ``timeout``.
/// Its standard error goes to the log at debug level; its standard output never does, and
/// errors name the profile, the program and the exit status, never what it printed.
struct CredentialProcess: Sendable {
    /// How long the command may run.
    static let timeout: Duration = .seconds(30)
    /// The most output read from either stream.
    static let outputLimit = 1 << 20

    let profile: String
    let commandLine: String
    let environment: [String: String]
    let logger: Logger
    var timeout: Duration = Self.timeout

    /// Runs the command and returns its credentials.
    func credentials() async throws -> AWSCredentials {
        let argv = try Self.split(commandLine, profile: profile)
        let program = argv[0]
        logger.debug("running credential_process", metadata: ["profile": "\(profile)", "program": "\(program)"])
        let run: CapturedRun
        do {
            run = try await ChildProcess.runCapturing(command: argv, environment: environment, timeout: timeout, outputLimit: Self.outputLimit)
        } catch {
            throw AWSError.config("AWS profile '\(profile)': credential_process cannot be started: \(error.message); check the command in the profile")
        }
        let stderr = String(decoding: run.standardError, as: UTF8.self)
        for line in stderr.split(whereSeparator: \.isNewline) where !line.allSatisfy(\.isWhitespace) {
            logger.debug("credential_process stderr", metadata: ["profile": "\(profile)", "line": "\(line)"])
        }
        let what = "AWS profile '\(profile)': credential_process (\(program))"
        if run.timedOut {
            throw AWSError.denied("\(what) did not finish within \(DurationParser.format(timeout)) and was killed")
        }
        guard run.status == .exited(0) else {
            throw AWSError.denied("\(what) failed: \(run.status); its standard error is logged at debug level (--log-level debug)")
        }
        if run.truncated {
            throw AWSError.denied("\(what) printed more than \(Self.outputLimit) bytes; expected one JSON object")
        }
        return try Self.parse(run.standardOutput, what: what, label: "credential_process of profile \(profile)")
    }

    /// The credentials in the command's JSON output. Messages never quote the output.
    static func parse(_ output: [UInt8], what: String, label: String) throws(AWSError) -> AWSCredentials {
        guard case .map(let map)? = try? JSON.parse(String(decoding: output, as: UTF8.self)) else {
            throw AWSError.denied("\(what) did not print a JSON object on its standard output")
        }
        guard let version = map["Version"]?.awsText else {
            throw AWSError.denied("\(what) printed JSON without \"Version\": 1")
        }
        guard version == "1" else {
            throw AWSError.denied("\(what) printed Version \(version.count <= 8 ? version : "?"); only Version 1 is understood")
        }
        guard let key = map["AccessKeyId"]?.awsString, !key.isEmpty,
              let secret = map["SecretAccessKey"]?.awsString, !secret.isEmpty else {
            throw AWSError.denied("\(what) printed JSON without AccessKeyId and SecretAccessKey")
        }
        var expiration: Date?
        if let text = map["Expiration"]?.awsText {
            guard let date = AWSDate.parse(text) else {
                throw AWSError.denied("\(what) printed an Expiration that is not an ISO 8601 time")
            }
            expiration = date
        }
        return AWSCredentials(accessKeyID: key, secretAccessKey: secret,
                              sessionToken: map["SessionToken"]?.awsString.flatMap { $0.isEmpty ? nil : $0 },
                              expiration: expiration, source: label)
    }

    /// Splits a command line like Python's `shlex.split` (POSIX mode, no comments), which
    /// botocore uses: whitespace separates words; `'…'` is literal; inside `"…"` a backslash
    /// escapes only `\` and `"`; elsewhere it escapes any character. Nothing is expanded.
    static func split(_ text: String, profile: String) throws(AWSError) -> [String] {
        var words: [String] = []
        var word = ""
        var inWord = false
        var chars = text.makeIterator()
        func fail(_ problem: String) -> AWSError {
            AWSError.config("AWS profile '\(profile)': credential_process has \(problem); quote it as a POSIX shell would")
        }
        while let c = chars.next() {
            switch c {
            case " ", "\t", "\n", "\r", "\r\n":
                if inWord { words.append(word); word = ""; inWord = false }
            case "'":
                inWord = true
                while true {
                    guard let q = chars.next() else { throw fail("an unterminated single quote") }
                    if q == "'" { break }
                    word.append(q)
                }
            case "\"":
                inWord = true
                while true {
                    guard let q = chars.next() else { throw fail("an unterminated double quote") }
                    if q == "\"" { break }
                    if q == "\\" {
                        guard let e = chars.next() else { throw fail("an unterminated double quote") }
                        if e != "\\" && e != "\"" { word.append("\\") }
                        word.append(e)
                    } else {
                        word.append(q)
                    }
                }
            case "\\":
                inWord = true
                guard let e = chars.next() else { throw fail("a backslash at the end") }
                word.append(e)
            default:
                inWord = true
                word.append(c)
            }
        }
        if inWord { words.append(word) }
        guard let first = words.first, !first.isEmpty else { throw AWSError.config("AWS profile '\(profile)': credential_process is empty") }
        return words
    }
}
