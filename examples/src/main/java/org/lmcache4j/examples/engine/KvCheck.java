package org.lmcache4j.examples.engine;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.lmcache4j.api.HostKvMemory;

/** Exact comparisons of engine KV and logits: row by row, or through SHA-256 digests across processes. */
public final class KvCheck {

    private KvCheck() {
    }

    /** True when tokens {@code 0 .. tokens-1} have the same K and V bytes in every layer of both memories. */
    public static boolean identical(HostKvMemory a, int[] slotsA, HostKvMemory b, int[] slotsB, int tokens) {
        long row = a.layout().rowBytes();
        for (int l = 0; l < a.layout().numLayers(); l++) {
            for (int p = 0; p < a.layout().planes(); p++) {
                for (int t = 0; t < tokens; t++) {
                    if (MemorySegment.mismatch(a.plane(l, p), slotsA[t] * row, slotsA[t] * row + row,
                            b.plane(l, p), slotsB[t] * row, slotsB[t] * row + row) != -1) {
                        return false;
                    }
                }
            }
        }
        return true;
    }

    /**
     * How far {@code a}'s KV of tokens {@code 0 .. tokens-1} is from {@code reference}'s, over every layer, K and V:
     * {@code sqrt(sum (a - r)^2 / sum r^2)}, the relative L2 distance (0 when identical). FP32 rows.
     */
    public static double relativeDeviation(HostKvMemory a, int[] slotsA, HostKvMemory reference, int[] slotsRef, int tokens) {
        int floats = a.layout().rowBytes() / Float.BYTES;
        double diff = 0;
        double norm = 0;
        for (int l = 0; l < a.layout().numLayers(); l++) {
            for (int p = 0; p < a.layout().planes(); p++) {
                for (int t = 0; t < tokens; t++) {
                    for (int i = 0; i < floats; i++) {
                        double x = a.plane(l, p).getAtIndex(ValueLayout.JAVA_FLOAT, (long) slotsA[t] * floats + i);
                        double r = reference.plane(l, p).getAtIndex(ValueLayout.JAVA_FLOAT, (long) slotsRef[t] * floats + i);
                        diff += (x - r) * (x - r);
                        norm += r * r;
                    }
                }
            }
        }
        return norm == 0 ? 0 : Math.sqrt(diff / norm);
    }

    /** KL(p || q) of the next-token distributions (softmax) of two logit vectors, in nats. */
    public static double klDivergence(float[] p, float[] q) {
        double[] a = softmax(p);
        double[] b = softmax(q);
        double kl = 0;
        for (int i = 0; i < a.length; i++) {
            if (a[i] > 0) {
                kl += a[i] * Math.log(a[i] / Math.max(b[i], Double.MIN_NORMAL));
            }
        }
        return Math.max(0, kl);
    }

    private static double[] softmax(float[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double[] e = new double[logits.length];
        double sum = 0;
        for (int i = 0; i < e.length; i++) {
            e[i] = Math.exp(logits[i] - max);
            sum += e[i];
        }
        for (int i = 0; i < e.length; i++) {
            e[i] /= sum;
        }
        return e;
    }

    /** SHA-256 of the K and V rows of tokens {@code 0 .. tokens-1}, layer by layer, plane by plane, in token order. */
    public static String digest(HostKvMemory kv, int[] slots, int tokens) {
        MessageDigest md = sha256();
        long row = kv.layout().rowBytes();
        byte[] buf = new byte[(int) row];
        for (int l = 0; l < kv.layout().numLayers(); l++) {
            for (int p = 0; p < kv.layout().planes(); p++) {
                for (int t = 0; t < tokens; t++) {
                    MemorySegment.copy(kv.plane(l, p), ValueLayout.JAVA_BYTE, slots[t] * row, buf, 0, buf.length);
                    md.update(buf);
                }
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** SHA-256 of the raw bits of {@code values}. */
    public static String digest(float[] values) {
        MessageDigest md = sha256();
        for (float v : values) {
            int bits = Float.floatToRawIntBits(v);
            md.update(new byte[] {(byte) bits, (byte) (bits >>> 8), (byte) (bits >>> 16), (byte) (bits >>> 24)});
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every Java platform", e);
        }
    }
}
