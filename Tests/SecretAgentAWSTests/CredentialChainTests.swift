import AsyncHTTPClient
import Foundation
import NIOCore
import SecretAgentCore
import Testing
@testable import SecretAgentAWS

/// Each credential source against loopback servers: profile files and AssumeRole against moto
/// (auth on), web identity against a second moto (auth off: STS takes that call unsigned), ECS
/// container credentials against a tiny server, IMDSv2 against moto's metadata routes.
@Suite(.enabled(if: Moto.enabled)) struct CredentialChainTests {
    @Test func environmentCredentialsWinOverProfiles() async throws {
        let moto = try Moto.require()
        let dir = try TempDir()
        let file = try dir.write("credentials", "[default]\naws_access_key_id = AKIAPROFILEKEY000000\naws_secret_access_key = x\n")
        let backend = makeBackend(moto.environment(["AWS_SHARED_CREDENTIALS_FILE": file]))
        let credentials = try await backend.context.chain.credentials()
        #expect(credentials.source == "environment" && credentials.accessKeyID == moto.accessKeyID)
    }

    @Test func profileFilesWithRegionFromTheProfile() async throws {
        let moto = try Moto.require()
        let dir = try TempDir()
        let credentials = try dir.write("credentials", "[ci]\naws_access_key_id = \(moto.accessKeyID)\naws_secret_access_key = \(moto.secretAccessKey)\n")
        let config = try dir.write("config", "[profile ci]\nregion = us-east-1\n[profile other]\nregion = eu-west-1\n")
        let env = moto.environment(["AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_REGION": "", "AWS_PROFILE": "ci",
                                    "AWS_SHARED_CREDENTIALS_FILE": credentials, "AWS_CONFIG_FILE": config])
        let backend = makeBackend(env, settings: AWSSettings(profile: "other"))
        #expect(try await backend.region() == "us-east-1") // AWS_PROFILE wins over aws.profile
        let out = try await fetch(backend, ["ssm:/docker/registry/username"])
        #expect(out["ssm:/docker/registry/username"].string == "ci-deployer")
        #expect(try await backend.context.chain.credentials().source == "profile ci")

        var withoutEnv = env
        withoutEnv["AWS_PROFILE"] = nil
        let fromSettings = makeBackend(withoutEnv, settings: AWSSettings(profile: "ci"))
        #expect(try await fromSettings.context.chain.credentials().source == "profile ci")
    }

    @Test func profileRoleIsAssumedWithTheSourceProfile() async throws {
        let moto = try Moto.require()
        let role = try Moto.value("SECRET_AGENT_TEST_AWS_ROLE_ARN")
        let dir = try TempDir()
        let credentials = try dir.write("credentials", "[base]\naws_access_key_id = \(moto.accessKeyID)\naws_secret_access_key = \(moto.secretAccessKey)\n")
        let config = try dir.write("config", "[profile deploy]\nrole_arn = \(role)\nsource_profile = base\nrole_session_name = sa-test\nregion = us-east-1\n")
        let backend = makeBackend(moto.environment(["AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_PROFILE": "deploy",
                                                    "AWS_SHARED_CREDENTIALS_FILE": credentials, "AWS_CONFIG_FILE": config]))
        let out = try await fetch(backend, ["ssm:/docker/registry/url", "sm:docker/registry/password"])
        #expect(out["ssm:/docker/registry/url"].string == "registry.example.com:5000")
        #expect(out["sm:docker/registry/password"].string == "Dr0ck3r-Regi5try-Pa55!")
        let assumed = try await backend.context.chain.credentials()
        #expect(assumed.accessKeyID.hasPrefix("ASIA") && assumed.sessionToken != nil && assumed.expiration != nil)
        #expect(assumed.source.contains("role"))
        #expect(backend.callCount(service: "sts", operation: "AssumeRole") == 1)
    }

    @Test func webIdentityThroughSTS() async throws {
        let moto = try Moto.require()
        // A moto of our own with signature checking off, as on the first call of a real cluster.
        let second = try Helper(python: moto.python, script: """
            import sys
            from moto.server import ThreadedMotoServer
            s = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
            s.start()
            print(s.get_host_and_port()[1], flush=True)
            sys.stdin.read()
            s.stop()
            """)
        defer { second.stop() }
        let dir = try TempDir()
        let token = try dir.write("token", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6YXBwIn0.c2lnbmF0dXJl\n")
        let backend = makeBackend(moto.environment([
            "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_ENDPOINT_URL": "http://127.0.0.1:\(second.port)",
            "AWS_WEB_IDENTITY_TOKEN_FILE": token, "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/irsa", "AWS_ROLE_SESSION_NAME": "pod",
        ]))
        let credentials = try await backend.context.chain.credentials()
        #expect(credentials.accessKeyID.hasPrefix("ASIA") && credentials.sessionToken != nil && credentials.expiration != nil)
        #expect(credentials.source.contains("web identity"))
        #expect(backend.callCount(service: "sts", operation: "AssumeRoleWithWebIdentity") == 1)
        // And the temporary credentials sign calls (this moto does not check them).
        let out = try await fetch(backend, ["ssm:/not/seeded/here"])
        #expect(out["ssm:/not/seeded/here"]?.isNotFound == true)
    }

    /// A container credentials endpoint: answers the seeded user's keys when the authorization
    /// token matches, with an expiry 1 h away (`/long`) or 1 min away (`/short`); `/hits` counts.
    static let containerServer = """
        import http.server, json, os, sys, threading, datetime
        hits = 0
        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a): pass
            def do_GET(self):
                global hits
                if self.path == "/hits":
                    body = str(hits).encode(); self.send_response(200); self.end_headers(); self.wfile.write(body); return
                hits += 1
                if self.headers.get("Authorization") != os.environ["ECS_TOKEN"]:
                    self.send_response(401); self.end_headers(); return
                minutes = 60 if self.path.endswith("/long") else 1
                exp = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")
                body = json.dumps({"AccessKeyId": os.environ["KEY"], "SecretAccessKey": os.environ["SECRET"], "Token": "",
                                   "Expiration": exp}).encode()
                self.send_response(200); self.send_header("Content-Type", "application/json"); self.end_headers(); self.wfile.write(body)
        s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=s.serve_forever, daemon=True).start()
        print(s.server_address[1], flush=True)
        sys.stdin.read()
        """

    @Test func containerCredentialsFullURIWithTokenFile() async throws {
        let moto = try Moto.require()
        let server = try Helper(python: moto.python, script: Self.containerServer,
                                environment: ["KEY": moto.accessKeyID, "SECRET": moto.secretAccessKey, "ECS_TOKEN": "ecs-auth-token-1"])
        defer { server.stop() }
        let dir = try TempDir()
        let tokenFile = try dir.write("token", "ecs-auth-token-1\n")
        let base = "http://127.0.0.1:\(server.port)"
        let backend = makeBackend(moto.environment(["AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "",
                                                    "AWS_CONTAINER_CREDENTIALS_FULL_URI": base + "/creds/long",
                                                    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": tokenFile]))
        let out = try await fetch(backend, ["sm:docker/registry/password"])
        #expect(out["sm:docker/registry/password"].string == "Dr0ck3r-Regi5try-Pa55!")
        _ = try await backend.context.chain.credentials()
        #expect(try await hits(base) == 1, "credentials an hour from expiry are cached")

        // Credentials a minute from expiry are refreshed before each use.
        let short = makeBackend(moto.environment(["AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "",
                                                  "AWS_CONTAINER_CREDENTIALS_FULL_URI": base + "/creds/short",
                                                  "AWS_CONTAINER_AUTHORIZATION_TOKEN": "ecs-auth-token-1"]))
        _ = try await short.context.chain.credentials()
        _ = try await short.context.chain.credentials()
        #expect(try await hits(base) == 3)

        let wrong = makeBackend(moto.environment(["AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "",
                                                  "AWS_CONTAINER_CREDENTIALS_FULL_URI": base + "/creds/long",
                                                  "AWS_CONTAINER_AUTHORIZATION_TOKEN": "wrong"]))
        await #expect { try await wrong.context.chain.credentials() } throws: { ($0 as? AWSError)?.exitCode == .noPermission }
    }

    @Test func containerFullURIMustBeLoopbackOrHTTPS() async throws {
        let backend = makeBackend(["AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://203.0.113.7/creds", "AWS_EC2_METADATA_DISABLED": "true"])
        await #expect { try await backend.context.chain.credentials() } throws: { ($0 as? AWSError)?.exitCode == .config }
    }

    @Test func instanceMetadataV2() async throws {
        let moto = try Moto.require()
        let backend = makeBackend(["AWS_EC2_METADATA_SERVICE_ENDPOINT": moto.endpoint, "HOME": "/nonexistent"])
        let credentials = try await backend.context.chain.credentials()
        #expect(credentials.source == "instance metadata role default-role")
        #expect(!credentials.accessKeyID.isEmpty && credentials.sessionToken != nil && credentials.expiration != nil)
        #expect(try await backend.region() == "us-east-1")
    }

    private func hits(_ base: String) async throws -> Int {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: base + "/hits"), timeout: .seconds(5))
        return Int(String(buffer: try await response.body.collect(upTo: 100))) ?? -1
    }
}
