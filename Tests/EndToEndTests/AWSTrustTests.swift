import Foundation
import Testing

/// The agent binary against moto serving HTTPS with a certificate from a CA the test makes with
/// openssl: trusted through `AWS_CA_BUNDLE`, `aws.ca_bundle` or the profile's `ca_bundle`, and
/// exit 69 naming the endpoint, what failed and the variable that fixes it otherwise.
@Suite("AWS trust", .enabled(if: Net.tlsEnabled), .serialized)
struct AWSTrustTests {
    static func environment(_ moto: TLSMoto, _ extra: [String: String] = [:]) -> [String: String] {
        var env = Agent.cleanEnvironment([
            "AWS_ENDPOINT_URL": moto.endpoint, "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": "x",
            "AWS_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": "/nonexistent/config", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials",
        ])
        env.merge(extra) { _, new in new }
        return env
    }

    @Test("a private CA works through AWS_CA_BUNDLE, aws.ca_bundle and the profile's ca_bundle; without it exit 69 names the endpoint and the fix")
    func privateCA() throws {
        let ca = try TestCA()
        defer { ca.remove() }
        let (cert, key) = try ca.server(name: "moto", subjectAltName: "IP:127.0.0.1,DNS:localhost")
        let moto = try TLSMoto(certificate: cert, key: key)
        defer { moto.stop() }
        try moto.putParameter("/tls/db/password", "tls-secret-value", caBundle: ca.caCert)
        let scratch = Scratch(onTmpfs: false)
        defer { scratch.remove() }
        let ref = "ssm:/tls/db/password"

        // Without the CA: refused at once, exit 69, the message names host:port, what failed and the fix.
        let refused = try Agent.run(["get", ref], environment: Self.environment(moto), timeout: 30)
        #expect(refused.status == 69, "\(refused.stderr)")
        #expect(refused.stderr.contains("127.0.0.1:\(moto.port)"), "\(refused.stderr)")
        #expect(refused.stderr.contains("untrusted issuer"), "\(refused.stderr)")
        #expect(refused.stderr.contains("AWS_CA_BUNDLE"), "\(refused.stderr)")
        #expect(!refused.output.contains("tls-secret-value"))

        // AWS_CA_BUNDLE.
        let viaEnv = try Agent.run(["get", ref], environment: Self.environment(moto, ["AWS_CA_BUNDLE": ca.caCert]))
        #expect(viaEnv.status == 0, "\(viaEnv.stderr)")
        #expect(viaEnv.stdout == "tls-secret-value\n")
        #expect(viaEnv.stderr.contains("CA bundle \(ca.caCert) (AWS_CA_BUNDLE)"), "\(viaEnv.stderr)")

        // aws.ca_bundle, relative to the configuration file; it wins over a wrong AWS_CA_BUNDLE.
        try FileManager.default.copyItem(atPath: ca.caCert, toPath: scratch.file("ca.pem"))
        let config = scratch.write("agent.yaml", "aws:\n  ca_bundle: ca.pem\n")
        let wrongBundle = scratch.write("other.pem", try String(contentsOfFile: cert, encoding: .utf8))
        let viaConfig = try Agent.run(["get", "--config", config, ref],
                                      environment: Self.environment(moto, ["AWS_CA_BUNDLE": wrongBundle]))
        #expect(viaConfig.status == 0, "\(viaConfig.stderr)")
        #expect(viaConfig.stdout == "tls-secret-value\n")

        // The profile's ca_bundle.
        let profile = scratch.write("aws-config", "[profile tls]\nregion = us-east-1\nca_bundle = \(ca.caCert)\n")
        let viaProfile = try Agent.run(["get", ref], environment: Self.environment(moto, ["AWS_CONFIG_FILE": profile, "AWS_PROFILE": "tls"]))
        #expect(viaProfile.status == 0, "\(viaProfile.stderr)")
        #expect(viaProfile.stdout == "tls-secret-value\n")

        // A bundle that is not PEM: a configuration error naming the variable.
        let junk = scratch.write("junk.pem", "not a certificate\n")
        let bad = try Agent.run(["get", ref], environment: Self.environment(moto, ["AWS_CA_BUNDLE": junk]), timeout: 30)
        #expect(bad.status == 78, "\(bad.stderr)")
        #expect(bad.stderr.contains("AWS_CA_BUNDLE"), "\(bad.stderr)")

        // https through a proxy: a CONNECT tunnel to moto, the certificate checked end to end.
        if Net.proxyTool != nil {
            let proxy = try ForwardProxy()
            defer { proxy.stop() }
            let tunneled = try Agent.run(["get", ref], environment: Self.environment(moto, ["AWS_CA_BUNDLE": ca.caCert, "HTTPS_PROXY": proxy.url]))
            #expect(tunneled.status == 0, "\(tunneled.stderr)")
            #expect(tunneled.stdout == "tls-secret-value\n")
            #expect(proxy.sawRequest(toPort: moto.port), "\(proxy.log)")
            #expect(proxy.log.contains("CONNECT 127.0.0.1:\(moto.port)"), "\(proxy.log)")
        }
    }

    @Test("a certificate for another host name is exit 69 saying 'wrong host name'")
    func wrongHostName() throws {
        let ca = try TestCA()
        defer { ca.remove() }
        let (cert, key) = try ca.server(name: "other", subjectAltName: "DNS:other.example")
        let moto = try TLSMoto(certificate: cert, key: key)
        defer { moto.stop() }
        let r = try Agent.run(["get", "ssm:/tls/anything"], environment: Self.environment(moto, ["AWS_CA_BUNDLE": ca.caCert]), timeout: 30)
        #expect(r.status == 69, "\(r.stderr)")
        #expect(r.stderr.contains("127.0.0.1:\(moto.port)"), "\(r.stderr)")
        #expect(r.stderr.contains("wrong host name"), "\(r.stderr)")
    }
}
