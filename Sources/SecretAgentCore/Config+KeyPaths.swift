extension AgentConfig {
    /// Every key the configuration file accepts, as a dotted path (`poll`, `aws.region`,
    /// `vault.auth.method`, `templates[].mode`, `templates[].on_change.command`), read from the
    /// same key sets the parser checks: `docs/configuration.md` is tested against this list.
    public static var keyPaths: [String] {
        var paths: [String] = []
        for key in topKeys.sorted() {
            paths.append(key)
            switch key {
            case "aws": paths += AWSSettings.keys.sorted().map { "aws.\($0)" }
            case "vault":
                for v in VaultSettings.keys.sorted() {
                    paths.append("vault.\(v)")
                    if v == "auth" { paths += VaultAuthSettings.keys.sorted().map { "vault.auth.\($0)" } }
                }
            case "templates":
                for t in TemplateSpec.keys.sorted() {
                    paths.append("templates[].\(t)")
                    if t == "on_change" { paths += TemplateSpec.onChangeKeys.sorted().map { "templates[].on_change.\($0)" } }
                }
            case "exec": paths += ExecSpec.keys.sorted().map { "exec.\($0)" }
            case "serve":
                for k in ServeSettings.keys.sorted() {
                    paths.append("serve.\(k)")
                    if k == "allow" { paths += ServeAllowSettings.keys.sorted().map { "serve.allow.\($0)" } }
                }
            default: continue
            }
        }
        return paths
    }
}
