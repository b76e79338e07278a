package org.lmcache4j.examples.demo;

import java.util.Arrays;
import java.util.Locale;

/**
 * The demo's results as JSON: per scenario {@code name, prompt_tokens, cached_tokens, ttft_ms_no_cache,
 * ttft_ms_cache, hit_tier} (plus speedup, the per-row checks and the generated tokens); per scenario that
 * hit, {@code kv_bytes}, {@code retrieve_ms} (the median of {@code retrieve_ms_runs}: the cached request's own
 * retrieve, then its repeats, {@link RetrieveRepeats}), {@code raw_ms} (the same bytes moved by plain means, see
 * {@link RawBaseline}), {@code retrieve_vs_raw} and {@code raw_method}, and for a baseline read from files
 * {@code raw_cache_state} and {@code raw_cache_state_how}; top-level {@code kv_identical} and
 * {@code tokens_identical}, which are true only when every row's comparison was, and
 * {@code retrieve_vs_raw_max} over the rows that hit; {@code rag_blend}, the RAG scenario ({@link RagResult}), when it ran.
 */
final class JsonReport {

    private JsonReport() {
    }

    static String render(DemoSummary s) {
        StringBuilder b = new StringBuilder("{\n");
        field(b, 1, "model", str(s.model()));
        field(b, 1, "model_file", str(s.modelFile()));
        field(b, 1, "parameters", Long.toString(s.parameters()));
        field(b, 1, "kv_bytes_per_token", Integer.toString(s.kvBytesPerToken()));
        field(b, 1, "threads", Integer.toString(s.threads()));
        field(b, 1, "chunk_tokens", Integer.toString(s.chunkTokens()));
        field(b, 1, "prefill_tokens_per_second", num(s.prefillTokensPerSecond()));
        field(b, 1, "wall_seconds", num(s.wallSeconds()));
        field(b, 1, "kv_identical", Boolean.toString(s.kvIdentical()));
        field(b, 1, "tokens_identical", Boolean.toString(s.tokensIdentical()));
        field(b, 1, "logits_identical", Boolean.toString(s.logitsIdentical()));
        field(b, 1, "retrieve_vs_raw_max", num(s.scenarios().stream().mapToDouble(ScenarioResult::retrieveVsRaw)
                .filter(Double::isFinite).max().orElse(Double.NaN)));
        b.append("  \"scenarios\": [\n");
        for (int i = 0; i < s.scenarios().size(); i++) {
            ScenarioResult r = s.scenarios().get(i);
            b.append("    {\n");
            field(b, 3, "name", str(r.name()));
            field(b, 3, "prompt_tokens", Integer.toString(r.promptTokens()));
            field(b, 3, "cached_tokens", Integer.toString(r.cachedTokens()));
            field(b, 3, "ttft_ms_no_cache", num(r.ttftMsNoCache()));
            field(b, 3, "ttft_ms_cache", num(r.ttftMsCache()));
            field(b, 3, "kv_bytes", Long.toString(r.kvBytes()));
            field(b, 3, "retrieve_ms", num(r.retrieveMs()));
            if (r.cachedTokens() > 0) {
                b.append("      \"retrieve_ms_runs\": ").append(Arrays.stream(r.retrieveRuns()).mapToObj(JsonReport::num)
                        .collect(java.util.stream.Collectors.joining(", ", "[", "]"))).append(",\n");
            }
            field(b, 3, "raw_ms", num(r.raw().ms()));
            field(b, 3, "retrieve_vs_raw", num(r.retrieveVsRaw()));
            if (r.cachedTokens() > 0) {
                field(b, 3, "raw_method", str(r.raw().method()));
            }
            if (r.raw().fromFiles()) {
                field(b, 3, "raw_cache_state", str(r.raw().cacheState()));
                field(b, 3, "raw_cache_state_how", str(r.raw().cacheStateHow()));
            }
            field(b, 3, "speedup", num(r.speedup()));
            field(b, 3, "hit_tier", str(r.hitTier()));
            field(b, 3, "kv_identical", Boolean.toString(r.kvIdentical()));
            field(b, 3, "tokens_identical", Boolean.toString(r.tokensIdentical()));
            field(b, 3, "logits_identical", Boolean.toString(r.logitsIdentical()));
            b.append("      \"generated_tokens\": ").append(Arrays.toString(r.generated())).append('\n');
            b.append(i + 1 < s.scenarios().size() ? "    },\n" : "    }\n");
        }
        if (s.rag() == null) {
            return b.append("  ]\n}\n").toString();
        }
        b.append("  ],\n  \"rag_blend\": {\n");
        RagResult r = s.rag();
        field(b, 2, "documents", Integer.toString(r.documents()));
        field(b, 2, "tokens", Integer.toString(r.promptTokens()));
        field(b, 2, "no_cache_ttft_ms", num(r.ttftMsNoCache()));
        field(b, 2, "prefix_caching_ttft_ms", num(r.ttftMsPrefix()));
        field(b, 2, "prefix_cached_tokens", Integer.toString(r.prefixCachedTokens()));
        field(b, 2, "ratio", num(r.ratio()));
        field(b, 2, "blend_ttft_ms", num(r.ttftMsBlend()));
        field(b, 2, "blend_cached_tokens", Integer.toString(r.blendCachedTokens()));
        field(b, 2, "blend_speedup_vs_no_cache", num(r.blendSpeedupVsNoCache()));
        field(b, 2, "blend_speedup_vs_prefix", num(r.blendSpeedupVsPrefix()));
        field(b, 2, "kl_vs_no_cache", String.format(Locale.ROOT, "%.3g", r.kl()));
        field(b, 2, "first_token_agrees", Boolean.toString(r.firstTokenAgrees()));
        field(b, 2, "ratio_1_ttft_ms", num(r.ttftMsExact()));
        b.append("    \"ratio_1_identical\": ").append(r.exactIdentical()).append('\n');
        return b.append("  }\n}\n").toString();
    }

    private static void field(StringBuilder b, int depth, String name, String value) {
        b.append("  ".repeat(depth)).append('"').append(name).append("\": ").append(value).append(",\n");
    }

    private static String num(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.3f", v) : "null";
    }

    static String str(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }
}
