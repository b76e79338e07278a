package org.lmcache4j.storage.disk;

/**
 * The CRC32C of two byte ranges laid end to end, from the CRC32C of each and the second's length, as
 * zlib's {@code crc32_combine} does for its polynomial: the first CRC is advanced over the second
 * range's length of zero bytes with the CRC's shift operators (32 x 32 matrices over GF(2)) for 2^k
 * zero bytes, computed once: at most 63 matrix-vector products, well under a microsecond.
 */
final class Crc32cCombine {

    /** CRC-32C (Castagnoli), reflected. */
    private static final int POLYNOMIAL = 0x82F63B78;

    private Crc32cCombine() {
    }

    /** CRC32C of {@code a || b}, where {@code crcA} and {@code crcB} are the CRC32C of each and {@code lengthB} is b's length. */
    static int combine(int crcA, int crcB, long lengthB) {
        int crc = crcA;
        long len = lengthB;
        for (int k = 0; len > 0; k++, len >>>= 1) {
            if ((len & 1) != 0) {
                crc = times(ZERO_BYTES[k], crc);
            }
        }
        return crc ^ crcB;
    }

    /** ZERO_BYTES[k]: the operator that advances a CRC over 2^k zero bytes. */
    private static final int[][] ZERO_BYTES = new int[63][];

    static {
        int[] bit = new int[32]; // over one zero bit
        bit[0] = POLYNOMIAL;
        for (int n = 1; n < 32; n++) {
            bit[n] = 1 << (n - 1);
        }
        int[] op = bit;
        for (int i = 0; i < 3; i++) { // 2, 4, 8 zero bits
            op = squared(op);
        }
        for (int k = 0; k < ZERO_BYTES.length; k++) {
            ZERO_BYTES[k] = op;
            op = squared(op);
        }
    }

    private static int times(int[] matrix, int vector) {
        int sum = 0;
        for (int i = 0; vector != 0; i++, vector >>>= 1) {
            if ((vector & 1) != 0) {
                sum ^= matrix[i];
            }
        }
        return sum;
    }

    private static int[] squared(int[] matrix) {
        int[] square = new int[32];
        for (int n = 0; n < 32; n++) {
            square[n] = times(matrix, matrix[n]);
        }
        return square;
    }
}
