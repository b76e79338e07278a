package org.lmcache4j.gpu;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.lmcache4j.api.DeviceKvFormat;
import org.lmcache4j.api.KvDtype;
import org.lmcache4j.api.KvLayout;

/**
 * The kernels of {@code kv_copy.cu}, compiled for the CPU by g++ through {@code cuda_cpu_shim.h}, against
 * {@link ReferenceKvCopy} byte for byte: every chunk of randomized problems (all three formats, 1/2/4-byte
 * elements, block sizes 1-16, shuffled block tables with a partly filled last block, negative slots, a
 * partial last chunk), aligned (16-byte accesses) and misaligned (8-, 4- and 1-byte accesses). The launch
 * parameters are made by the production {@link KvShape}/{@link KvCopyArgs}, so their math is checked too.
 */
class KvCopyKernelEmulationTest {

    static Stream<Arguments> randomProblems() {
        List<Arguments> cases = new ArrayList<>();
        for (DeviceKvFormat format : DeviceKvFormat.values()) {
            for (long seed = 0; seed < 25; seed++) {
                cases.add(Arguments.of(format, seed, true));
                cases.add(Arguments.of(format, seed, false));
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} seed {1} aligned {2}")
    @MethodSource("randomProblems")
    void gatherAndScatterAgreeWithTheReference(DeviceKvFormat format, long seed, boolean aligned) {
        KvScenario s = KvScenario.random(seed, format, aligned);
        Set<Integer> widths = checkEveryChunk(s);
        if (aligned) {
            assertEquals(Set.of(16), widths, s::toString);
        }
    }

    @ParameterizedTest(name = "{0}: head dim {1} x {2} B (2 heads, 1 for MLA), layers +{3}, chunk +{4} -> {5}-byte accesses")
    @CsvSource({
        "VLLM,         64, 2, 0, 0, 16",
        "FLASH_INFER,  32, 1, 0, 0, 16",
        "MLA,          72, 4, 0, 0, 16",
        "VLLM,          2, 2, 0, 0, 8",
        "FLASH_INFER,  64, 2, 8, 0, 8",
        "MLA,          64, 2, 0, 8, 8",
        "VLLM,          1, 2, 0, 0, 4",
        "FLASH_INFER,  64, 4, 4, 0, 4",
        "MLA,           5, 4, 0, 0, 4",
        "VLLM,          3, 1, 0, 0, 1",
        "FLASH_INFER,  64, 2, 2, 0, 1",
        "MLA,          64, 2, 0, 1, 1",
        "VLLM,          7, 1, 0, 0, 1",
    })
    void accessWidthFollowsAlignment(DeviceKvFormat format, int headDim, int dtypeBytes, int layerMisalignment,
                                     int chunkMisalignment, int expectedWidth) {
        KvDtype dtype = switch (dtypeBytes) {
            case 1 -> KvDtype.FP8_E5M2;
            case 2 -> KvDtype.FP16;
            default -> KvDtype.FP32;
        };
        boolean mla = format == DeviceKvFormat.MLA;
        KvLayout layout = new KvLayout(3, mla ? 1 : 2, headDim, dtype, mla);
        int[] slots = new int[45];
        for (int t = 0; t < slots.length; t++) {
            slots[t] = t % 11 == 10 ? -1 : (slots.length - 1 - t); // reversed: every block out of order
        }
        KvScenario s = new KvScenario(headDim, format, layout, 3, 16, slots, 16, layerMisalignment, chunkMisalignment);
        assertEquals(Set.of(expectedWidth), checkEveryChunk(s), s::toString);
    }

    /** A launch with more work than one grid's threads: the kernel's grid-stride loop must cover the rest. */
    @Test
    void gridStrideLoopCoversMoreThanOneGrid() {
        KvLayout layout = KvLayout.mla(1, 4099, KvDtype.FP8_E4M3); // odd row: 1-byte accesses, one per thread
        int[] slots = new int[300];
        for (int t = 0; t < slots.length; t++) {
            slots[t] = t;
        }
        KvScenario s = new KvScenario(99, DeviceKvFormat.MLA, layout, 19, 16, slots, 300, 0, 0);
        long vectors = (long) slots.length * layout.rowBytes();
        assertTrue(vectors > (long) KvCopyArgs.MAX_GRID_X * KvCopyArgs.BLOCK_THREADS,
                "the problem must exceed one grid");
        assertEquals(Set.of(1), checkEveryChunk(s), s::toString);
    }

    /** Gathers and scatters every chunk of {@code s} through the CPU kernels; returns the access widths used. */
    static Set<Integer> checkEveryChunk(KvScenario s) {
        Set<Integer> widths = new TreeSet<>();
        try (Arena arena = Arena.ofConfined()) {
            byte[][] layers = s.randomLayers(1);
            MemorySegment[] tensors = new MemorySegment[layers.length];
            MemorySegment layerTable = arena.allocate(JAVA_LONG, layers.length);
            for (int l = 0; l < layers.length; l++) {
                tensors[l] = arena.allocate(s.layerBytes() + 256, 256).asSlice(s.layerMisalignment(), s.layerBytes());
                MemorySegment.copy(layers[l], 0, tensors[l], JAVA_BYTE, 0, layers[l].length);
                layerTable.setAtIndex(JAVA_LONG, l, tensors[l].address());
            }
            KvShape shape = KvShape.of(s.memory(layerTable.toArray(JAVA_LONG)));
            for (int[] range : s.chunkRanges()) {
                int from = range[0];
                int to = range[1];
                int tokens = to - from;
                String where = s + ", chunk [" + from + ", " + to + ")";
                MemorySegment slots = arena.allocateFrom(JAVA_INT, Arrays.copyOfRange(s.slotMapping(), from, to));
                long bytes = s.chunkBytes(tokens);
                MemorySegment chunk = arena.allocate(bytes + 16, 16).asSlice(s.chunkMisalignment(), bytes);

                byte[] before = s.randomBytes(bytes, from);
                MemorySegment.copy(before, 0, chunk, JAVA_BYTE, 0, before.length);
                byte[] expected = before.clone();
                ReferenceKvCopy.gather(s, layers, from, to, expected);
                KvCopyArgs args = shape.wholeChunk(new DevicePtr(layerTable.address()), new DevicePtr(slots.address()),
                        new DevicePtr(chunk.address()), tokens);
                widths.add(args.vectorBytes());
                CpuKernels.get().run(args, true);
                assertArrayEquals(expected, chunk.toArray(JAVA_BYTE), () -> "gather, " + where);

                byte[] payload = s.randomBytes(bytes, 1000 + from);
                MemorySegment.copy(payload, 0, chunk, JAVA_BYTE, 0, payload.length);
                ReferenceKvCopy.scatter(s, payload, layers, from, to);
                CpuKernels.get().run(args, false);
                for (int l = 0; l < layers.length; l++) {
                    int layer = l;
                    assertArrayEquals(layers[l], tensors[l].toArray(JAVA_BYTE), () -> "scatter, layer " + layer + ", " + where);
                }
            }
        }
        return widths;
    }

    /** The layerwise launches: one layer at a time, K and V a whole chunk's layers apart, build the same chunk. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("formats")
    void oneLayerLaunchesBuildTheWholeChunk(DeviceKvFormat format) {
        KvScenario s = KvScenario.random(7, format, false);
        try (Arena arena = Arena.ofConfined()) {
            byte[][] layers = s.randomLayers(2);
            MemorySegment layerTable = arena.allocate(JAVA_LONG, layers.length);
            for (int l = 0; l < layers.length; l++) {
                MemorySegment tensor = arena.allocate(s.layerBytes() + 256, 256).asSlice(s.layerMisalignment(), s.layerBytes());
                MemorySegment.copy(layers[l], 0, tensor, JAVA_BYTE, 0, layers[l].length);
                layerTable.setAtIndex(JAVA_LONG, l, tensor.address());
            }
            KvShape shape = KvShape.of(s.memory(layerTable.toArray(JAVA_LONG)));
            int tokens = s.tokens();
            MemorySegment slots = arena.allocateFrom(JAVA_INT, s.slotMapping());
            long bytes = s.chunkBytes(tokens);
            MemorySegment chunk = arena.allocate(bytes + 16, 16).asSlice(s.chunkMisalignment(), bytes);
            byte[] expected = new byte[(int) bytes];
            ReferenceKvCopy.gather(s, layers, 0, tokens, expected);
            long layerBytes = (long) tokens * s.layout().rowBytes();
            for (int l = 0; l < layers.length; l++) {
                CpuKernels.get().run(shape.oneLayer(new DevicePtr(layerTable.address() + 8L * l), new DevicePtr(slots.address()),
                        tokens, new DevicePtr(chunk.address() + l * layerBytes), layerBytes * layers.length), true);
            }
            assertArrayEquals(expected, chunk.toArray(JAVA_BYTE), s::toString);
        }
    }

    static Stream<DeviceKvFormat> formats() {
        return Stream.of(DeviceKvFormat.values());
    }

    @Test
    void argsStructMatchesTheCompilersLayout() {
        List<Long> expected = new ArrayList<>();
        expected.add(KvCopyArgs.LAYOUT.byteSize());
        for (MemoryLayout member : KvCopyArgs.LAYOUT.memberLayouts()) {
            expected.add(KvCopyArgs.LAYOUT.byteOffset(MemoryLayout.PathElement.groupElement(member.name().orElseThrow())));
        }
        List<Long> actual = new ArrayList<>();
        for (long v : CpuKernels.get().argsLayout()) {
            actual.add(v);
        }
        assertEquals(expected, actual, "sizeof(KvCopyArgs) then offsetof each field: Java vs g++");
    }

    @Test
    void referenceOffsetsFollowTheLayouts() {
        // 3 blocks of 2 tokens, 1-byte rows; slot 3 = block 1, offset 1.
        assertEquals(3, ReferenceKvCopy.engineOffset(DeviceKvFormat.VLLM, 0, 3, 3, 2, 1));      // [2][3][2]: K plane first
        assertEquals(6 + 3, ReferenceKvCopy.engineOffset(DeviceKvFormat.VLLM, 1, 3, 3, 2, 1));  // V plane after all K
        assertEquals(4 + 1, ReferenceKvCopy.engineOffset(DeviceKvFormat.FLASH_INFER, 0, 3, 3, 2, 1)); // [3][2][2]
        assertEquals(4 + 2 + 1, ReferenceKvCopy.engineOffset(DeviceKvFormat.FLASH_INFER, 1, 3, 3, 2, 1));
        assertEquals(3 * 8, ReferenceKvCopy.engineOffset(DeviceKvFormat.MLA, 0, 3, 3, 2, 8));
    }
}
