package org.lmcache4j.gpu;

/**
 * A CUDA driver call that returned an error: names the call and the {@code CUresult} by name and code,
 * e.g. {@code "cuMemAlloc failed: CUDA_ERROR_OUT_OF_MEMORY (2)"}.
 */
public final class CudaException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String call;
    private final int result;

    CudaException(String call, int result) {
        this(call, result, "");
    }

    /** @param context what the call was doing, appended to the message when not empty */
    CudaException(String call, int result, String context) {
        super(call + " failed: " + CudaResult.name(result) + " (" + result + ")" + (context.isEmpty() ? "" : ": " + context));
        this.call = call;
        this.result = result;
    }

    /** The driver function that failed, e.g. {@code cuMemAlloc}. */
    public String call() {
        return call;
    }

    /** The {@code CUresult} code. */
    public int result() {
        return result;
    }

    /** The {@code CUresult} name, e.g. {@code CUDA_ERROR_OUT_OF_MEMORY}. */
    public String resultName() {
        return CudaResult.name(result);
    }
}
