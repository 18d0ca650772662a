import Foundation
import SecretAgentCore
import Testing
@testable import SecretAgentAWS

/// A credential source twin: the first load answers temporary credentials expiring at
/// `firstExpiry`; every later load (a refresh) waits until `open()`, then fails.
actor FailingRefreshTwin: CredentialLoader {
    static let secretAccessKey = "twinSecretAccessKeyNeverLogged000000000"
    static let sessionToken = "twinSessionTokenNeverLogged0000000000000"

    private let firstExpiry: Date
    private(set) var loads = 0
    private var isOpen = false
    private var gate: [CheckedContinuation<Void, Never>] = []

    init(firstExpiry: Date) {
        self.firstExpiry = firstExpiry
    }

    func load(preferring known: CredentialSource?) async throws -> (AWSCredentials, CredentialSource) {
        loads += 1
        if loads == 1 {
            return (AWSCredentials(accessKeyID: "ASIATWINTWINTWIN0001", secretAccessKey: Self.secretAccessKey, sessionToken: Self.sessionToken,
                                   expiration: firstExpiry, source: "twin"), .container)
        }
        if !isOpen { await withCheckedContinuation { gate.append($0) } }
        throw AWSError.unavailable("cannot reach container credentials http://127.0.0.1:9/creds: the connection was closed")
    }

    /// Lets waiting and later refreshes fail.
    func open() {
        isOpen = true
        for waiter in gate { waiter.resume() }
        gate = []
    }
}

/// N callers at once while a refresh fails: each gets the cached credentials while they are
/// still valid (the failure logged once), the error once they have expired.
@Suite struct CredentialRefreshTests {
    static let callers = 8

    /// Starts `callers` concurrent `credentials()` calls, opens the twin once all but the one
    /// that started the refresh wait for it, and returns each caller's result.
    func concurrentCalls(_ chain: CredentialChain, _ twin: FailingRefreshTwin) async throws -> [Result<AWSCredentials, any Error>] {
        try await withThrowingTaskGroup(of: Result<AWSCredentials, any Error>.self) { group in
            for _ in 0..<Self.callers {
                group.addTask {
                    do { return .success(try await chain.credentials()) } catch { return .failure(error) }
                }
            }
            let deadline = ContinuousClock.now + .seconds(60)
            while await chain.waiting < Self.callers - 1 {
                guard ContinuousClock.now < deadline else {
                    await twin.open()
                    throw Moto.Missing(description: "the callers never all waited for one refresh")
                }
                try await Task.sleep(for: .milliseconds(5))
            }
            await twin.open()
            var results: [Result<AWSCredentials, any Error>] = []
            for try await result in group { results.append(result) }
            return results
        }
    }

    @Test func waitersGetStillValidCachedCredentialsWhenTheRefreshFails() async throws {
        let capture = LogCapture()
        // Two minutes left: inside the five-minute refresh window, not expired.
        let twin = FailingRefreshTwin(firstExpiry: Date().addingTimeInterval(120))
        let chain = CredentialChain(sources: twin, logger: capture.logger())
        let first = try await chain.credentials()
        #expect(first.needsRefresh() && !first.isExpired())

        let results = try await concurrentCalls(chain, twin)
        #expect(results.count == Self.callers)
        for result in results {
            switch result {
            case .success(let credentials):
                let cached = credentials.accessKeyID == first.accessKeyID && credentials.sessionToken == first.sessionToken
                #expect(cached, "a caller got other credentials than the cached ones")
            case .failure(let error): Issue.record("a caller got the refresh error instead of the cached credentials: \(error)")
            }
        }
        #expect(await twin.loads == 2, "one refresh for all the callers")
        let warnings = capture.lines.filter { $0.contains("refreshing AWS credentials failed") }
        #expect(warnings.count == 1, "the failure is logged once")
        let leaking = capture.lines.filter { $0.contains(FailingRefreshTwin.secretAccessKey) || $0.contains(FailingRefreshTwin.sessionToken) }
        #expect(leaking.isEmpty, "\(leaking.count) log lines carry the secret key or the session token")
    }

    @Test func everyCallerGetsTheErrorOnceTheCachedCredentialsExpired() async throws {
        let twin = FailingRefreshTwin(firstExpiry: Date().addingTimeInterval(-1))
        let chain = CredentialChain(sources: twin, logger: LogCapture().logger())
        _ = try await chain.credentials()
        let results = try await concurrentCalls(chain, twin)
        #expect(results.count == Self.callers)
        for result in results {
            if case .failure(let error) = result {
                #expect((error as? AWSError)?.exitCode == .unavailable)
            } else {
                Issue.record("a caller got expired credentials")
            }
        }
        #expect(await twin.loads == 2)
    }
}
