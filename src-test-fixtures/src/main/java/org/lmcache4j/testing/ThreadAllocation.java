package org.lmcache4j.testing;

import java.lang.reflect.Method;

/**
 * Heap bytes the current thread has allocated, for tests that bound what a decoder allocates. Reached
 * reflectively: the tier modules read neither {@code java.management} nor {@code jdk.management},
 * and tests run on the class path, where both are present.
 */
public final class ThreadAllocation {

    private static final Object BEAN;
    private static final Method ALLOCATED;

    static {
        try {
            BEAN = Class.forName("java.lang.management.ManagementFactory").getMethod("getThreadMXBean").invoke(null);
            ALLOCATED = Class.forName("com.sun.management.ThreadMXBean").getMethod("getCurrentThreadAllocatedBytes");
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private ThreadAllocation() {
    }

    /** Heap allocated by this thread so far. */
    public static long bytes() {
        try {
            return (long) ALLOCATED.invoke(BEAN);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot read this thread's allocated bytes", e);
        }
    }
}
