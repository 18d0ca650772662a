import AsyncHTTPClient
import Foundation
import Logging
import SecretAgentCore
import SecretTemplate
import Testing
@testable import SecretAgentAWS

/// The Python that runs the scripted servers: the test servers' one, else the system's.
let scriptedServerPython: String? = {
    if let p = ProcessInfo.processInfo.environment["SECRET_AGENT_TEST_PYTHON"] { return p }
    return ["/usr/bin/python3", "/usr/local/bin/python3"].first { FileManager.default.isExecutableFile(atPath: $0) }
}()

/// Throttling, 5xx and hung requests against a scripted JSON 1.1 server on loopback.
@Suite(.enabled(if: scriptedServerPython != nil)) struct RetryTests {
    static var python: String? { scriptedServerPython }

    /// Answers GetParameters by the first name: `/throttle-twice` is throttled twice then served,
    /// `/always-500` always fails, `/hang` answers after 3 s; everything else is served at once.
    static let server = """
        import http.server, json, sys, threading, time
        counts = {}
        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            def log_message(self, *a): pass
            def reply(self, status, body, extra={}):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(data)))
                for k, v in extra.items(): self.send_header(k, v)
                self.end_headers(); self.wfile.write(data)
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                name = body["Names"][0]
                counts[name] = counts.get(name, 0) + 1
                if name == "/throttle-twice" and counts[name] <= 2:
                    return self.reply(400, {"__type": "ThrottlingException", "message": "Rate exceeded"})
                if name == "/always-500":
                    return self.reply(500, {"__type": "InternalServerError", "message": "boom"})
                if name == "/hang":
                    time.sleep(3)
                self.reply(200, {"Parameters": [{"Name": n, "Value": "v" + n, "Version": 1, "Type": "String"} for n in body["Names"]],
                                 "InvalidParameters": []})
        s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=s.serve_forever, daemon=True).start()
        print(s.server_address[1], flush=True)
        sys.stdin.read()
        """

    func backend(_ port: Int, timeout: Duration = .seconds(5)) -> AWSBackend {
        let retry = RetryPolicy(maxAttempts: 4, baseDelay: .milliseconds(20), maxDelay: .milliseconds(100), timeout: timeout)
        return AWSBackend(settings: AWSSettings(region: "us-east-1", endpointURL: "http://127.0.0.1:\(port)"),
                          environment: ["AWS_ACCESS_KEY_ID": "AKIAFAKEFAKEFAKE0000", "AWS_SECRET_ACCESS_KEY": "fake", "AWS_EC2_METADATA_DISABLED": "true"],
                          httpClient: testHTTPClient, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }), retry: retry)
    }

    @Test func throttlingIsRetriedWithBackoff() async throws {
        let server = try Helper(python: Self.python!, script: Self.server)
        defer { server.stop() }
        let b = backend(server.port)
        let out = try await fetch(b, ["ssm:/throttle-twice"])
        #expect(out["ssm:/throttle-twice"].string == "v/throttle-twice")
        #expect(b.callCount(service: "ssm", operation: "GetParameters") == 3)
    }

    @Test("a batch that keeps failing leaves the other batches' values with the failure")
    func oneFailingBatchKeepsTheOthers() async throws {
        let server = try Helper(python: Self.python!, script: Self.server)
        defer { server.stop() }
        let b = backend(server.port)
        // Sorted by name, "/always-500" leads the first batch of ten; "/p10" is alone in the second.
        let names = ["/always-500"] + (1...10).map { String(format: "/p%02d", $0) }
        do {
            _ = try await fetch(b, names.map { "ssm:" + $0 })
            Issue.record("expected an error")
        } catch let error as PartialFetchFailure {
            #expect(error.isTransient && error.exitCode == .unavailable)
            #expect(error.fetched.count == 1)
            let p10 = try Reference.parse("ssm:/p10").locator
            guard case .found(let secret)? = error.fetched[p10] else {
                Issue.record("the second batch's value travels with the failure")
                return
            }
            #expect(secret.value == .string("v/p10"))
        }
        #expect(b.callCount(service: "ssm", operation: "GetParameters") == 5, "4 attempts of the failing batch, 1 of the other")
    }

    @Test func serverErrorsGiveUpAfterBoundedAttemptsAsTransient() async throws {
        let server = try Helper(python: Self.python!, script: Self.server)
        defer { server.stop() }
        let b = backend(server.port)
        do {
            _ = try await fetch(b, ["ssm:/always-500"])
            Issue.record("expected an error")
        } catch let error as AWSError {
            #expect(error.isTransient && error.exitCode == .unavailable && error.code == "InternalServerError")
            #expect(error.message.contains("ssm:GetParameters") && error.message.contains("4 attempts"))
        }
        #expect(b.callCount(service: "ssm", operation: "GetParameters") == 4)
    }

    @Test func hungRequestsTimeOut() async throws {
        let server = try Helper(python: Self.python!, script: Self.server)
        defer { server.stop() }
        let b = backend(server.port, timeout: .milliseconds(500))
        let started = ContinuousClock.now
        await #expect { try await fetch(b, ["ssm:/hang"]) } throws: { ($0 as? AWSError)?.isTransient == true }
        #expect(ContinuousClock.now - started < .seconds(6))
    }
}
