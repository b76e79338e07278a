package org.lmcache4j.examples.engine;

/**
 * A weight matrix {@code W[rows][cols]} (one row per output) repacked for {@link Matmul}: panels of
 * {@link #PANEL} consecutive rows, each stored column-major ({@code [panel][col][PANEL]}), so the kernel
 * streams a panel's weights contiguously and keeps one output row per vector lane. The last panel is
 * padded with zeros.
 */
public final class PackedMatrix {

    /** Outputs per panel: two vectors. */
    public static final int PANEL = 2 * VectorMath.L;

    /** Fills one row of the source matrix. */
    @FunctionalInterface
    public interface RowReader {
        void read(int row, float[] dst);
    }

    private final int rows;
    private final int cols;
    private final float[] data;

    private PackedMatrix(int rows, int cols, float[] data) {
        this.rows = rows;
        this.cols = cols;
        this.data = data;
    }

    /** Packs the {@code rows x cols} matrix whose rows {@code reader} produces. */
    public static PackedMatrix pack(int rows, int cols, RowReader reader) {
        long size = (long) Math.ceilDiv(rows, PANEL) * PANEL * cols;
        if (size > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("matrix " + rows + " x " + cols + " (expected: < 2^31 elements)");
        }
        float[] data = new float[(int) size];
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            reader.read(r, row);
            int base = (r / PANEL) * cols * PANEL + r % PANEL;
            for (int c = 0; c < cols; c++) {
                data[base + c * PANEL] = row[c];
            }
        }
        return new PackedMatrix(rows, cols, data);
    }

    /** Outputs. */
    public int rows() {
        return rows;
    }

    /** Inputs. */
    public int cols() {
        return cols;
    }

    int panels() {
        return Math.ceilDiv(rows, PANEL);
    }

    float[] data() {
        return data;
    }

    /** Bytes held. */
    public long sizeBytes() {
        return 4L * data.length;
    }
}
