import AsyncHTTPClient
import Foundation
import SecretAgentCore
import Testing
@testable import SecretAgentAWS

/// SPEC §6: the AWS client follows no redirects. An endpoint on loopback answers every request
/// with a redirect to a second, recording server; that server must receive nothing (no
/// connection, no signed request, no session token, no body), and the call fails with exit 69,
/// not retried, naming the endpoint and never the `Location`.
@Suite(.enabled(if: scriptedServerPython != nil)) struct RedirectTests {
    /// Writes one line per connection and the whole of each request (headers and body) to
    /// `RECORD`, and answers 200 with a GetParameters answer.
    static let recorder = """
        import http.server, json, os, sys, threading
        def record(text):
            with open(os.environ["RECORD"], "a") as f: f.write(text + "\\n")
        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            def log_message(self, *a): pass
            def setup(self):
                record("connection"); super().setup()
            def answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
                record(self.command + " " + self.path + "\\n" + str(self.headers) + body)
                data = json.dumps({"Parameters": [{"Name": "/app/x", "Value": "from-elsewhere", "Version": 1, "Type": "String"}],
                                   "InvalidParameters": []}).encode()
                self.send_response(200); self.send_header("Content-Length", str(len(data))); self.end_headers(); self.wfile.write(data)
            do_GET = do_POST = do_PUT = answer
        s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=s.serve_forever, daemon=True).start()
        print(s.server_address[1], flush=True)
        sys.stdin.read()
        """

    /// Answers every request with the status its path names (`/307`, default 307) and a
    /// `Location` on the recorder, with a query that must never appear in a message.
    static let redirector = """
        import http.server, os, sys, threading
        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            def log_message(self, *a): pass
            def answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                if length: self.rfile.read(length)
                digits = self.path.strip("/").split("/")[0]
                self.send_response(int(digits) if digits.isdigit() else 307)
                self.send_header("Location", "http://127.0.0.1:" + os.environ["TARGET"] + "/stolen?leak=LOCATIONQUERY")
                self.send_header("Content-Length", "0"); self.end_headers()
            do_GET = do_POST = do_PUT = answer
        s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=s.serve_forever, daemon=True).start()
        print(s.server_address[1], flush=True)
        sys.stdin.read()
        """

    static let sessionToken = "FwoGZXIvYXdzEREDIRECTTESTSESSIONTOKEN0000"
    static let secretKey = "redirectTestSecretAccessKey00000000000000"
    static let webToken = "eyJhbGciOiJSUzI1NiJ9.redirect-test-web-identity-token.c2ln"

    /// The two servers, and what the recorder received.
    final class Servers {
        let dir: TempDir
        let record: String
        let recorder: Helper
        let redirector: Helper

        init() throws {
            dir = try TempDir()
            record = dir.path + "/record"
            recorder = try Helper(python: scriptedServerPython!, script: RedirectTests.recorder, environment: ["RECORD": record])
            do {
                redirector = try Helper(python: scriptedServerPython!, script: RedirectTests.redirector, environment: ["TARGET": "\(recorder.port)"])
            } catch {
                recorder.stop()
                throw error
            }
        }

        func endpoint(_ status: Int) -> String { "http://127.0.0.1:\(redirector.port)/\(status)" }

        /// True when the recorder saw no connection at all (its record is never printed: it
        /// would hold the session token).
        var receivedNothing: Bool { ((try? String(contentsOfFile: record, encoding: .utf8)) ?? "").isEmpty }

        func stop() {
            redirector.stop()
            recorder.stop()
        }
    }

    func environment(_ endpoint: String, _ extra: [String: String] = [:]) -> [String: String] {
        var env = ["AWS_ACCESS_KEY_ID": "ASIAREDIRECTTEST0000", "AWS_SECRET_ACCESS_KEY": Self.secretKey, "AWS_SESSION_TOKEN": Self.sessionToken,
                   "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": endpoint, "AWS_EC2_METADATA_DISABLED": "true", "HOME": "/nonexistent"]
        env.merge(extra) { _, new in new }
        return env.filter { !$0.value.isEmpty }
    }

    /// The documented error: exit 69, not transient, naming the endpoint and the redirect, and
    /// nothing of the `Location`, the credentials or the body.
    func expectRefused(_ error: (any Error)?, endpoint: String, status: Int, _ comment: Comment) {
        guard let error = error as? AWSError else {
            Issue.record("expected an AWSError, got \(String(describing: error)): \(comment)")
            return
        }
        #expect(error.exitCode == .unavailable && !error.isTransient, comment)
        #expect(error.status == status, comment)
        #expect(error.message.contains(endpoint) && error.message.contains("redirect") && error.message.contains("refused"), comment)
        let leaks = ["stolen", "LOCATIONQUERY", Self.sessionToken, Self.secretKey, Self.webToken].filter { error.message.contains($0) }
        #expect(leaks.isEmpty, "the message names the Location or a secret: \(comment)")
    }

    @Test(arguments: [301, 302, 303, 307, 308])
    func ssmAndSecretsManagerCallsAreNotRedirected(status: Int) async throws {
        let servers = try Servers()
        defer { servers.stop() }
        let endpoint = servers.endpoint(status)
        let backend = makeBackend(environment(endpoint))
        let ssm = await #expect(throws: AWSError.self) { try await fetch(backend, ["ssm:/app/x"]) }
        expectRefused(ssm, endpoint: endpoint, status: status, "ssm")
        let sm = await #expect(throws: AWSError.self) { try await fetch(backend, ["sm:app/x"]) }
        expectRefused(sm, endpoint: endpoint, status: status, "secretsmanager")
        #expect(backend.callCount(service: "ssm") == 1 && backend.callCount(service: "secretsmanager") == 1, "a redirect is not retried")
        let clean = servers.receivedNothing
        #expect(clean, "the redirect target received something")
    }

    @Test func stsCallsAreNotRedirected() async throws {
        let servers = try Servers()
        defer { servers.stop() }
        let endpoint = servers.endpoint(307)
        let dir = try TempDir()
        // AssumeRole, signed with a source profile's session credentials.
        let credentials = try dir.write("credentials", "[base]\naws_access_key_id = ASIAREDIRECTTEST0000\naws_secret_access_key = \(Self.secretKey)\naws_session_token = \(Self.sessionToken)\n")
        let config = try dir.write("config", "[profile deploy]\nrole_arn = arn:aws:iam::123456789012:role/deploy\nsource_profile = base\n")
        let assume = makeBackend(environment(endpoint, ["AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "", "AWS_PROFILE": "deploy",
                                                        "AWS_SHARED_CREDENTIALS_FILE": credentials, "AWS_CONFIG_FILE": config]))
        let assumeError = await #expect(throws: AWSError.self) { try await assume.context.chain.credentials() }
        expectRefused(assumeError, endpoint: endpoint, status: 307, "AssumeRole")
        #expect(assume.callCount(service: "sts", operation: "AssumeRole") == 1)

        // AssumeRoleWithWebIdentity: unsigned, the token is in the body.
        let token = try dir.write("token", Self.webToken + "\n")
        let web = makeBackend(environment(endpoint, ["AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "",
                                                     "AWS_WEB_IDENTITY_TOKEN_FILE": token, "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/irsa"]))
        let webError = await #expect(throws: AWSError.self) { try await web.context.chain.credentials() }
        expectRefused(webError, endpoint: endpoint, status: 307, "AssumeRoleWithWebIdentity")
        let clean = servers.receivedNothing
        #expect(clean, "the redirect target received something")
    }

    @Test func containerCredentialsAreNotRedirected() async throws {
        let servers = try Servers()
        defer { servers.stop() }
        let endpoint = servers.endpoint(307)
        let backend = makeBackend(environment("", ["AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "",
                                                   "AWS_CONTAINER_CREDENTIALS_FULL_URI": endpoint,
                                                   "AWS_CONTAINER_AUTHORIZATION_TOKEN": Self.sessionToken]))
        let error = await #expect(throws: AWSError.self) { try await backend.context.chain.credentials() }
        guard let error else { return }
        #expect(error.exitCode == .unavailable && !error.isTransient && error.status == 307)
        #expect(error.message.contains(endpoint) && error.message.contains("redirect") && error.message.contains("AWS_CONTAINER_CREDENTIALS_FULL_URI"))
        let leaks = error.message.contains("stolen") || error.message.contains(Self.sessionToken)
        #expect(!leaks)
        let clean = servers.receivedNothing
        #expect(clean, "the redirect target received something")
    }

    /// Should a client that follows redirects be handed in anyway, the answer from wherever it
    /// went is not used.
    @Test func anAnswerAfterAFollowedRedirectIsNotUsed() async throws {
        let servers = try Servers()
        defer { servers.stop() }
        let endpoint = servers.endpoint(307)
        let backend = makeBackend(environment(endpoint), httpClient: HTTPClient.shared)
        let error = await #expect(throws: AWSError.self) { try await fetch(backend, ["ssm:/app/x"]) }
        expectRefused(error, endpoint: endpoint, status: 307, "followed by the client")
    }
}
