import Foundation
import Testing

/// The agent binary behind a real forward proxy (proxy.py) on the way to moto and OpenBao: the
/// proxy's own log shows the agent's tunnels, the values arrive, `NO_PROXY` goes around it, the
/// configuration overrides the environment, and proxy passwords never reach the agent's log.
@Suite("Proxies", .enabled(if: Net.proxyEnabled), .serialized)
struct ProxyTests {
    /// Nothing listens there: a proxy the agent must not use.
    static let deadProxy = "http://127.0.0.1:9"

    static func port(of url: String) throws -> Int {
        guard let p = URL(string: url)?.port else { throw Servers.Missing(description: "no port in \(url)") }
        return p
    }

    /// A parameter in the shared moto, named for this test.
    static func parameter(_ value: String) throws -> String {
        let name = "/proxy/\(UUID().uuidString.prefix(8))/value"
        try Servers.boto("c('ssm').put_parameter(Name='\(name)', Value='\(value)', Type='SecureString')")
        return name
    }

    /// A secret in the shared OpenBao (KV v2 at secret/), named for this test.
    static func vaultSecret(_ value: String) throws -> String {
        let path = "proxy/\(UUID().uuidString.prefix(8))"
        try Servers.vault("POST", "secret/data/\(path)", #"{"data": {"value": "\#(value)"}}"#)
        return "vault:secret/\(path)#value"
    }

    /// Waits until the proxy has logged a request it is sent now, so that anything the agent
    /// sent before is in the log too.
    static func settle(_ proxy: ForwardProxy) throws {
        _ = try? Net.tool("/usr/bin/env", ["curl", "-s", "-o", "/dev/null", "-x", proxy.url, "http://127.0.0.1:1/settle"])
        #expect(eventually(timeout: 10) { proxy.log.contains("127.0.0.1:1/settle") }, "\(proxy.log)")
    }

    @Test("AWS requests go through HTTP_PROXY in a CONNECT tunnel; the value arrives and the proxy log shows it")
    func awsThroughTheProxy() throws {
        let proxy = try ForwardProxy()
        defer { proxy.stop() }
        let name = try Self.parameter("through-the-proxy")
        var env = try Servers.awsEnvironment()
        env["HTTP_PROXY"] = proxy.url
        let r = try Agent.run(["get", "ssm:\(name)"], environment: env)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "through-the-proxy\n")
        let moto = try Self.port(of: try Servers.value("SECRET_AGENT_TEST_MOTO_ENDPOINT"))
        #expect(proxy.sawRequest(toPort: moto), "\(proxy.log)")
        #expect(proxy.log.contains("CONNECT 127.0.0.1:\(moto)"), "\(proxy.log)")
        #expect(r.stderr.contains("http via http://127.0.0.1:\(proxy.port) (HTTP_PROXY)"), "\(r.stderr)")
    }

    @Test("NO_PROXY (host:port, an address, *) sends AWS requests around the proxy")
    func noProxyGoesAround() throws {
        let proxy = try ForwardProxy()
        defer { proxy.stop() }
        let name = try Self.parameter("around-the-proxy")
        let moto = try Self.port(of: try Servers.value("SECRET_AGENT_TEST_MOTO_ENDPOINT"))
        for noProxy in ["example.com, 127.0.0.1:\(moto)", "127.0.0.0/8", "*"] {
            var env = try Servers.awsEnvironment()
            env["http_proxy"] = proxy.url
            env["NO_PROXY"] = noProxy
            let r = try Agent.run(["get", "ssm:\(name)"], environment: env)
            #expect(r.status == 0, "\(noProxy): \(r.stderr)")
            #expect(r.stdout == "around-the-proxy\n")
        }
        try Self.settle(proxy)
        #expect(!proxy.log.contains("127.0.0.1:\(moto)"), "\(proxy.log)")
    }

    @Test("proxy credentials from the URL are sent, and no password reaches the agent's output at trace level")
    func credentialsNeverLogged() throws {
        let proxy = try ForwardProxy(basicAuth: "agent:pr0xy-pa55word")
        defer { proxy.stop() }
        let name = try Self.parameter("with-credentials")
        var env = try Servers.awsEnvironment()
        env["HTTP_PROXY"] = "http://agent:pr0xy-pa55word@127.0.0.1:\(proxy.port)"
        let r = try Agent.run(["get", "--log-level", "trace", "ssm:\(name)"], environment: env)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "with-credentials\n")
        #expect(!r.output.contains("pr0xy-pa55word"))
        #expect(r.stderr.contains("http://127.0.0.1:\(proxy.port)"), "\(r.stderr)")
        let moto = try Self.port(of: try Servers.value("SECRET_AGENT_TEST_MOTO_ENDPOINT"))
        #expect(proxy.sawRequest(toPort: moto), "\(proxy.log)")

        // A wrong password: the proxy answers 407, the agent stops at once (exit 69) and says so.
        env["HTTP_PROXY"] = "http://agent:wr0ng-pa55word@127.0.0.1:\(proxy.port)"
        let denied = try Agent.run(["get", "--log-level", "trace", "ssm:\(name)"], environment: env, timeout: 30)
        #expect(denied.status == 69, "\(denied.stderr)")
        #expect(denied.stderr.contains("407"), "\(denied.stderr)")
        #expect(!denied.output.contains("wr0ng-pa55word"))
        #expect(!denied.output.contains("with-credentials"))
    }

    @Test("aws.proxy in the configuration overrides HTTP_PROXY; 'none' means no proxy")
    func configurationOverridesTheEnvironment() throws {
        let proxy = try ForwardProxy()
        defer { proxy.stop() }
        let scratch = Scratch(onTmpfs: false)
        defer { scratch.remove() }
        let name = try Self.parameter("configured")
        var env = try Servers.awsEnvironment()
        env["HTTP_PROXY"] = Self.deadProxy
        env["HTTPS_PROXY"] = Self.deadProxy
        let viaConfig = scratch.write("proxy.yaml", "aws:\n  proxy: \(proxy.url)\n")
        let r = try Agent.run(["get", "--config", viaConfig, "ssm:\(name)"], environment: env)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "configured\n")
        #expect(r.stderr.contains("via http://127.0.0.1:\(proxy.port) (aws.proxy)"), "\(r.stderr)")
        let moto = try Self.port(of: try Servers.value("SECRET_AGENT_TEST_MOTO_ENDPOINT"))
        #expect(proxy.sawRequest(toPort: moto), "\(proxy.log)")

        let none = scratch.write("none.yaml", "aws:\n  proxy: none\n")
        let direct = try Agent.run(["get", "--config", none, "ssm:\(name)"], environment: env)
        #expect(direct.status == 0, "\(direct.stderr)")
        #expect(direct.stdout == "configured\n")
        #expect(direct.stderr.contains("no proxy"), "\(direct.stderr)")
    }

    @Test("Vault requests go through the lower-case http_proxy (it wins over HTTP_PROXY), around it with NO_PROXY, and through VAULT_PROXY_ADDR whatever NO_PROXY says")
    func vaultThroughTheProxy() throws {
        guard Servers.vaultEnabled else { return }
        let proxy = try ForwardProxy()
        defer { proxy.stop() }
        let ref = try Self.vaultSecret("vault-through-the-proxy")
        let address = try Servers.value("SECRET_AGENT_TEST_VAULT_ADDR")
        let bao = try Self.port(of: address)
        var env = Agent.cleanEnvironment(["VAULT_ADDR": address, "VAULT_TOKEN": try Servers.value("SECRET_AGENT_TEST_VAULT_TOKEN")])
        env["http_proxy"] = proxy.url
        env["HTTP_PROXY"] = Self.deadProxy
        let r = try Agent.run(["get", ref], environment: env)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "vault-through-the-proxy\n")
        #expect(proxy.sawRequest(toPort: bao), "\(proxy.log)")
        #expect(r.stderr.contains("Vault network: Vault at \(address) via http://127.0.0.1:\(proxy.port) (http_proxy)"), "\(r.stderr)")

        let second = try ForwardProxy()
        defer { second.stop() }
        env["http_proxy"] = second.url
        env["no_proxy"] = "localhost,127.0.0.1"
        let around = try Agent.run(["get", ref], environment: env)
        #expect(around.status == 0, "\(around.stderr)")
        #expect(around.stdout == "vault-through-the-proxy\n")
        #expect(around.stderr.contains("direct (NO_PROXY)"), "\(around.stderr)")
        try Self.settle(second)
        #expect(!second.log.contains("127.0.0.1:\(bao) "), "\(second.log)")

        env["VAULT_PROXY_ADDR"] = second.url
        let forced = try Agent.run(["get", ref], environment: env)
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(forced.stdout == "vault-through-the-proxy\n")
        #expect(second.sawRequest(toPort: bao), "\(second.log)")
    }
}
