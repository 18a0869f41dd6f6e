/// What a reload (`systemctl reload portald`) applies, and what waits for a restart.
///
/// Applied at once: `[[webhooks.endpoints]]`, `[[admin.tokens]]`, `[branding] directory`
/// (its files are read again even when the directory is the same), `[log] level`,
/// `[[firewall.tiers]]` with `[portal] tier`, and `[firewall] walled_garden`.
/// Everything else (listeners, the table, the store, the arrivals, …) is read at start
/// only: a reload names those that changed, and they keep their running values.
enum ConfigChanges {
    /// The keys (as the file spells them) whose new values wait for a restart.
    static func needingRestart(from old: Config, to new: Config) -> [String] {
        // Described, not compared field by field: what a key holds is a plain value.
        let keys: [(String, (Config) -> String)] = [
            ("[site] id", { $0.site.id }), ("[site] name", { $0.site.name }), ("[site] time_zone", { $0.site.timeZone.identifier }),
            ("[portal] listen", { "\($0.portal.listen)" }), ("[portal] listen_ipv6", { "\(String(describing: $0.portal.listenIPv6))" }),
            ("[portal] lan_interface", { $0.portal.lanInterface }), ("[portal] public_url", { $0.portal.publicURL.absoluteString }),
            ("[portal] session_minutes", { "\($0.portal.sessionMinutes)" }),
            ("[portal] threads, timeouts and limits", { p in "\(p.portal.threads) \(p.portal.connectionTimeoutSeconds) \(p.portal.requestTimeoutSeconds) \(p.portal.maxConnectionsPerIP) \(p.portal.maxBodyBytes)" }),
            ("[firewall] backend", { $0.firewall.backend.rawValue }), ("[firewall] table", { $0.firewall.table }),
            ("[firewall] reconcile_seconds", { "\($0.firewall.reconcileSeconds)" }),
            ("[store] path", { $0.store.path }), ("[store] synchronous", { "\($0.store.synchronous)" }),
            ("[admin] listen", { "\($0.admin.listen)" }), ("[admin] token_file", { $0.admin.tokenFile }),
            ("[admin] rate_limit_per_minute", { "\($0.admin.rateLimitPerMinute)" }),
            ("[admin] failed_auth_per_minute", { "\($0.admin.failedAuthPerMinute)" }), ("[admin] metrics_token", { "\($0.admin.metricsToken)" }),
            ("[webhooks] delivery settings", { "\($0.webhooks.delivery)" }),
            // A wifi_tier left out follows [portal] tier, which a reload applies: not a change of its own.
            ("[arrivals]", { config in
                var arrivals = config.arrivals
                if arrivals.wifiTierFollowsPortal { arrivals.wifiTier = nil }
                return "\(arrivals)"
            }),
            ("[[inbound]]", { "\($0.inbound)" }), ("[inbound_listener] listen", { "\(String(describing: $0.inboundListen))" }),
            ("[privacy] hash_macs", { "\($0.log.hashMACs)" }),
        ]
        return keys.filter { $0.1(old) != $0.1(new) }.map(\.0)
    }

    /// `running` with what a reload applies taken from `new`: the configuration in effect.
    static func applying(_ new: Config, to running: Config) -> Config {
        var config = running
        config.webhooks.endpoints = new.webhooks.endpoints
        config.admin.tokens = new.admin.tokens
        config.branding = new.branding
        config.log.level = new.log.level
        config.firewall.tiers = new.firewall.tiers
        config.portal.tier = new.portal.tier
        config.firewall.walledGarden = new.firewall.walledGarden
        return config
    }
}
