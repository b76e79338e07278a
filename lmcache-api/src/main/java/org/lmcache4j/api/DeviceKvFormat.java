package org.lmcache4j.api;

/** How an engine lays out paged KV on a device; the GPU copy engine has a kernel for each. */
public enum DeviceKvFormat {
    /** vLLM: per layer {@code [2][numBlocks][blockSize][kvHeads][headDim]}. */
    VLLM,
    /** flash-infer: per layer {@code [numBlocks][2][blockSize][kvHeads][headDim]}. */
    FLASH_INFER,
    /** MLA: per layer {@code [numBlocks][blockSize][latentDim]}. */
    MLA
}
