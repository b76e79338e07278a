package org.lmcache4j.examples.demo;

import java.nio.file.Path;
import java.util.Optional;
import org.lmcache4j.examples.gguf.GgmlType;
import org.lmcache4j.examples.model.ModelSize;

/**
 * The demo's settings (see {@link DemoCommand} for the command-line names and defaults).
 *
 * @param cacheDir       where generated models ({@code models/}) and the disk tier ({@code kv/}) live
 * @param modelFile      a GGUF model to use instead of a generated one
 * @param size           the shape of the generated model
 * @param seed           the generated model's seed
 * @param weights        the type of the generated model's matrices
 * @param prefixTokens   the shared document of the cold, warm and restart scenarios
 * @param questionTokens each question (and chat user turn)
 * @param newTokens      tokens generated per request
 * @param chatRounds     rounds of the chat scenario
 * @param chatTurnTokens tokens each chat round adds to the history
 * @param docTokens      the document of the QA scenario
 * @param questions      questions asked about it
 * @param threads        compute threads
 * @param prefillChunk   positions per forward pass in a prefill
 * @param cpuBytes       cpu tier budget; 0 for the connector's default
 * @param diskBytes      disk tier budget
 * @param restart        run the restart scenario in a child JVM
 * @param keepCache      keep what the disk tier holds from earlier runs (the cold row then may hit)
 * @param progress       draw the progress bar
 * @param warmupTokens   prompt length of the JIT warm-up run (not measured)
 * @param pool           run the shared-pool scenario (a second engine JVM hits through the node-shared pool)
 * @param ragDocuments   documents of the RAG (CacheBlend) scenario; 0 skips it
 * @param ragDocumentTokens tokens of each
 * @param diskCacheState page-cache state of the restart scenario's chunk files before its retrieve and
 *                       before each baseline read: {@code cold} (evicted) or {@code warm} (read once)
 */
record DemoOptions(Path cacheDir, Optional<Path> modelFile, ModelSize size, long seed, GgmlType weights, int prefixTokens,
                   int questionTokens, int newTokens, int chatRounds, int chatTurnTokens, int docTokens, int questions,
                   int threads, int prefillChunk, long cpuBytes, long diskBytes, boolean restart, boolean keepCache,
                   boolean progress, int warmupTokens, String diskCacheState, boolean pool, int ragDocuments,
                   int ragDocumentTokens) {

    DemoOptions {
        positive("prefixTokens", prefixTokens);
        positive("questionTokens", questionTokens);
        positive("newTokens", newTokens);
        positive("threads", threads);
        positive("prefillChunk", prefillChunk);
        positive("diskBytes", diskBytes);
        ChunkFileBaseline.CacheState.of(diskCacheState); // validates the name
        if (ragDocuments < 0 || ragDocuments == 1 || ragDocumentTokens < 1) {
            throw new IllegalArgumentException("ragDocuments " + ragDocuments + ", ragDocumentTokens " + ragDocumentTokens
                    + " (expected: 0 to skip the RAG scenario, else at least 2 documents, so that their order can change;"
                    + " documents of >= 1 token)");
        }
        if (chatRounds < 0 || questions < 0 || docTokens < 1 || chatTurnTokens <= questionTokens || warmupTokens < 0) {
            throw new IllegalArgumentException("chatRounds " + chatRounds + ", questions " + questions + ", docTokens " + docTokens
                    + ", chatTurnTokens " + chatTurnTokens + ", warmupTokens " + warmupTokens
                    + " (expected: rounds, questions, warm-up >= 0; document >= 1; chat turn > question tokens)");
        }
    }

    private static void positive(String name, long v) {
        if (v <= 0) {
            throw new IllegalArgumentException(name + ": " + v + " (expected: > 0)");
        }
    }
}
