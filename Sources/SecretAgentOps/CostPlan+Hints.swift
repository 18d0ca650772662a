import SecretTemplate

/// Placement hints from names alone (the seed's rule): a sensitive-looking value kept in SSM
/// may be a plain `String` parameter; a non-sensitive-looking one in Secrets Manager pays
/// $0.40 a month for nothing. The plan works offline, so it cannot see a parameter's type or
/// a secret's contents: hints say "looks", and the caller decides.
extension CostPlan {
    /// Words that make a name look sensitive.
    static let sensitiveWords: Set<String> = [
        "password", "passwd", "pwd", "pass", "passphrase", "secret", "secrets", "token", "tokens", "key", "keys",
        "apikey", "private", "privkey", "credential", "credentials", "creds", "cert", "certificate", "pem",
        "p12", "pfx", "jks", "keystore", "auth", "bearer", "signing", "hmac", "salt", "otp", "pin", "dsn",
    ]
    /// Fragments that make a word look sensitive wherever they appear (`dbpassword`, `apitoken`).
    static let sensitiveFragments = ["password", "passwd", "secret", "token", "apikey", "privatekey", "credential"]
    /// Words that make a name look like plain configuration.
    static let plainWords: Set<String> = [
        "url", "uri", "host", "hostname", "endpoint", "username", "user", "login", "port", "region", "zone",
        "domain", "address", "addr", "email", "bucket", "queue", "topic", "arn", "account", "timeout", "version",
        "env", "environment", "path", "dir", "name", "id",
    ]

    /// Splits a name into lower-case words at punctuation and camelCase boundaries.
    static func words(_ text: String) -> [String] {
        var out: [String] = []
        var current = ""
        var previousLower = false
        for c in text {
            guard c.isLetter || c.isNumber else {
                if !current.isEmpty { out.append(current.lowercased()) }
                current = ""
                previousLower = false
                continue
            }
            if c.isUppercase && previousLower && !current.isEmpty {
                out.append(current.lowercased())
                current = ""
            }
            current.append(c)
            previousLower = c.isLowercase || c.isNumber
        }
        if !current.isEmpty { out.append(current.lowercased()) }
        return out
    }

    static func looksSensitive(_ words: [String]) -> Bool {
        words.contains { w in sensitiveWords.contains(w) || sensitiveFragments.contains { w.contains($0) } }
    }

    /// The last component of a parameter or secret name (or ARN): `/app/db/password` → `password`.
    static func lastComponent(_ name: String) -> String {
        String(name.split(whereSeparator: { $0 == "/" || $0 == ":" }).last ?? Substring(name))
    }

    /// The field names a reference selects (`#password`, the last token of `#/a/password`).
    static func fieldName(_ selector: FieldSelector?) -> String? {
        switch selector {
        case .field(let name)?: return name
        case .pointer(let tokens)?: return tokens.last
        case nil: return nil
        }
    }

    /// Hints per parameter or secret (all versions and fields of one name together), sorted.
    static func hints(for references: [Reference], prices: Prices) -> [Hint] {
        var fields: [String: [String]] = [:]
        var names: [String: Locator] = [:]
        for ref in references {
            let key: String
            switch ref.locator {
            case .ssm(let name, _): key = "ssm:" + name
            case .secretsManager(let id, _, _): key = "sm:" + id
            default: continue
            }
            names[key] = names[key] ?? ref.locator
            fields[key, default: []] += fieldName(ref.selector).map { [$0] } ?? []
        }
        var hints: [Hint] = []
        for (key, locator) in names {
            var used: [String] = []
            for f in fields[key] ?? [] where !used.contains(f) { used.append(f) }
            switch locator {
            case .ssm(let name, _):
                guard looksSensitive(words(lastComponent(name)) + used.flatMap(words)) else { continue }
                hints.append(Hint(reference: key, message: """
                    the name looks sensitive: if this is a String parameter, make it a SecureString or move it to \
                    Secrets Manager (plan works offline and cannot see the parameter's type)
                    """))
            case .secretsManager(let id, _, _):
                let all = words(lastComponent(id)) + used.flatMap(words)
                guard !looksSensitive(all), all.contains(where: plainWords.contains) else { continue }
                let what = used.isEmpty ? "the name looks" : "the name and the fields used (\(used.joined(separator: ", "))) look"
                hints.append(Hint(reference: key, message: """
                    \(what) non-sensitive: SSM Parameter Store is cheaper (a standard parameter costs nothing; \
                    a Secrets Manager secret costs \(dollars(prices.secretsManagerSecretMonth)) a month)
                    """))
            default:
                continue
            }
        }
        return hints.sorted { $0.reference < $1.reference }
    }
}
