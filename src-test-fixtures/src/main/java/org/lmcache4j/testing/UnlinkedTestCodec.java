package org.lmcache4j.testing;

import java.lang.foreign.MemorySegment;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.spi.KvCodec;

/**
 * A codec whose native library cannot load in this process (as zstd-jni's, without its platform's library or with a
 * noexec temporary directory): every encode and decode throws {@link UnsatisfiedLinkError}.
 */
public final class UnlinkedTestCodec implements KvCodec {

    public static final String NAME = "test-unlinked";
    public static final int ID = 252;

    /** For {@link java.util.ServiceLoader}. */
    public UnlinkedTestCodec() {
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int id() {
        return ID;
    }

    @Override
    public boolean lossy() {
        return false;
    }

    @Override
    public boolean supports(KvLayout layout) {
        return true;
    }

    @Override
    public long maxEncodedBytes(KvLayout layout, long logicalBytes) {
        return logicalBytes;
    }

    @Override
    public long encode(KvLayout layout, MemorySegment src, MemorySegment dst) {
        throw new UnsatisfiedLinkError("no libtest-unlinked in java.library.path");
    }

    @Override
    public void decode(KvLayout layout, MemorySegment encoded, MemorySegment dst) {
        throw new UnsatisfiedLinkError("no libtest-unlinked in java.library.path");
    }
}
