package org.lmcache4j.examples.demo;

import java.util.Locale;

/**
 * Renders the demo's results as a plain-text table with a verdict line. "retrieve" is the part of the
 * cached TTFT spent in lookup, retrieve and rebuilding attention's copies of the retrieved KV.
 */
final class ResultTable {

    private ResultTable() {
    }

    static String render(DemoSummary s) {
        StringBuilder b = new StringBuilder();
        String header = String.format(Locale.ROOT, "%-24s %7s %7s %13s %11s %9s %8s  %-5s %-3s %s",
                "scenario", "prompt", "cached", "TTFT no cache", "TTFT cache", "retrieve", "speedup", "hit", "kv", "tokens");
        b.append(header).append('\n').append("-".repeat(header.length())).append('\n');
        for (ScenarioResult r : s.scenarios()) {
            b.append(String.format(Locale.ROOT, "%-24s %7d %7d %10.0f ms %8.0f ms %6.0f ms %7.1fx  %-5s %-3s %s%n",
                    r.name(), r.promptTokens(), r.cachedTokens(), r.ttftMsNoCache(), r.ttftMsCache(), r.retrieveMs(), r.speedup(),
                    r.hitTier(), r.kvIdentical() ? "ok" : "NO", r.tokensIdentical() ? "ok" : "NO"));
        }
        b.append(String.format(Locale.ROOT, "%nkv_identical=%b tokens_identical=%b logits_identical=%b   "
                        + "prefill %.0f tokens/s on %d threads   wall %.1f s%n",
                s.kvIdentical(), s.tokensIdentical(), s.logitsIdentical(), s.prefillTokensPerSecond(), s.threads(),
                s.wallSeconds()));
        return b.toString();
    }
}
