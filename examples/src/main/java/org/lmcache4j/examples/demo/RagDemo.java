package org.lmcache4j.examples.demo;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.bench.JitQuiet;
import org.lmcache4j.blend.Blender;
import org.lmcache4j.examples.engine.Generation;
import org.lmcache4j.examples.engine.KvCheck;
import org.lmcache4j.examples.engine.LlamaEngine;
import org.lmcache4j.examples.engine.SegmentedPrompt;

/**
 * The demo's RAG scenario: a prompt of a system prompt, {@code n} documents and a question runs with blending; each
 * document is stored as a segment, and the prompt's chunks as a prefix. A second prompt holds the same documents in another order (reversed, the first
 * moved to the end of the list) and a new question: run with no cache, with prefix caching, blended at
 * {@link Blender#DEFAULT_RATIO}, and blended at 1.0 (which must equal the no-cache run bit for bit).
 */
final class RagDemo {

    private final LlamaEngine engine;
    private final KvConnector cache;
    private final LoadedModel model;
    private final DemoOptions o;
    private final ProgressBar bar;

    RagDemo(LlamaEngine engine, KvConnector cache, LoadedModel model, DemoOptions o, ProgressBar bar) {
        this.engine = engine;
        this.cache = cache;
        this.model = model;
        this.o = o;
        this.bar = bar;
    }

    /** Tokens of the longest prompt the scenario runs. */
    static int promptTokens(DemoOptions o) {
        return 2 * o.questionTokens() + o.ragDocuments() * o.ragDocumentTokens() + 64; // the encoder may add a few
    }

    RagResult run() {
        List<int[]> docs = new ArrayList<>();
        for (int d = 0; d < o.ragDocuments(); d++) {
            docs.add(encode(Prompts.document(40 + d, o.ragDocumentTokens())));
        }
        int[] system = encode(Prompts.turn("System", 400, o.questionTokens()));
        List<int[]> moved = new ArrayList<>(docs.reversed());
        moved.addLast(moved.removeFirst());
        SegmentedPrompt first = prompt(system, docs, encode(Prompts.question(41, o.questionTokens())));
        SegmentedPrompt second = prompt(system, moved, encode(Prompts.question(42, o.questionTokens())));

        bar.step("rag: caching " + docs.size() + " documents on their own");
        try (Generation g = engine.generateBlended(first.tokens(), first.segments(), o.newTokens(), cache, Blender.defaults())) {
            cache.store(first.tokens(), engine.memory().host(), g.promptSlots()); // its prefix too: fair to prefix caching
        }
        JitQuiet.await();
        bar.step("rag: documents in a new order, without cache");
        try (Generation plain = engine.generate(second.tokens(), o.newTokens(), null, bar::stepProgress)) {
            JitQuiet.await();
            bar.step("rag: with prefix caching");
            double prefixMs;
            int prefixCached;
            try (Generation prefix = engine.generate(second.tokens(), o.newTokens(), cache, bar::stepProgress)) {
                prefixMs = prefix.ttftMillis();
                prefixCached = prefix.cachedTokens();
            }
            JitQuiet.await();
            bar.step("rag: blended at " + Blender.DEFAULT_RATIO);
            double blendMs;
            int blendCached;
            double kl;
            boolean agrees;
            try (Generation blended = engine.generateBlended(second.tokens(), second.segments(), o.newTokens(), cache, Blender.defaults())) {
                blendMs = blended.ttftMillis();
                blendCached = blended.cachedTokens();
                kl = KvCheck.klDivergence(plain.firstLogits(), blended.firstLogits());
                agrees = blended.tokens()[0] == plain.tokens()[0];
            }
            JitQuiet.await();
            bar.step("rag: blended at 1.0 (the exactness check)");
            try (Generation exact = engine.generateBlended(second.tokens(), second.segments(), o.newTokens(), cache,
                    new Blender(1.0, Blender.DEFAULT_CHECK_LAYER))) {
                var kv = engine.memory().host();
                boolean identical = Arrays.equals(exact.firstLogits(), plain.firstLogits()) && Arrays.equals(exact.tokens(), plain.tokens())
                        && KvCheck.identical(kv, exact.promptSlots(), kv, plain.promptSlots(), second.tokens().length);
                return new RagResult(docs.size(), second.tokens().length, plain.ttftMillis(), prefixMs, prefixCached, blendMs,
                        Blender.DEFAULT_RATIO, blendCached, kl, agrees, exact.ttftMillis(), identical);
            }
        }
    }

    /** The system prompt and the documents (each a segment), then the question. */
    private static SegmentedPrompt prompt(int[] system, List<int[]> docs, int[] question) {
        List<int[]> parts = new ArrayList<>(List.of(system));
        parts.addAll(docs);
        return SegmentedPrompt.of(parts, question);
    }

    private int[] encode(String text) {
        return model.tokenizer().encode(text);
    }
}
