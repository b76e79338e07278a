package org.lmcache4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class JitQuietTest {

    @Test
    void readsACompilerThreadsCpuTicksFromItsStatLine() {
        String c2 = "4711 (C2 CompilerThre) S 4700 4700 1 0 -1 1077936192 12 0 0 0 1234 56 0 0 20 0 30 0 88 0 0";
        assertEquals(1234 + 56, JitQuiet.compilerTicks(c2));
        String c1 = "4712 (C1 CompilerThre) R 4700 4700 1 0 -1 1077936192 12 0 0 0 7 8 0 0 20 0 30 0 88 0 0";
        assertEquals(15, JitQuiet.compilerTicks(c1));
    }

    @Test
    void ignoresEveryOtherThreadEvenWithParenthesesInItsName() {
        assertEquals(0, JitQuiet.compilerTicks("4713 (main) R 4700 4700 1 0 -1 1 12 0 0 0 900 100 0 0 20 0 30 0 88 0 0"));
        assertEquals(0, JitQuiet.compilerTicks("4714 (C2 (odd) name) R 4700 4700 1 0 -1 1 12 0 0 0 900 100 0 0 20 0 30 0 88"));
        assertEquals(0, JitQuiet.compilerTicks("garbage"));
    }

    @Test
    void runsAWarmUpAtLeastAsOftenAndAsLongAsAsked() {
        AtomicInteger passes = new AtomicInteger();
        JitQuiet.runUntilQuiet(passes::incrementAndGet, 7, 0);
        assertTrue(passes.get() >= 7, passes + " passes (expected: at least 7)");
        passes.set(0);
        long start = System.nanoTime();
        JitQuiet.runUntilQuiet(passes::incrementAndGet, 0, 60);
        assertTrue(System.nanoTime() - start >= 60_000_000, "returned before 60 ms");
        assertTrue(passes.get() > 0);
    }

    @Test
    void refusesANegativeWarmUp() {
        assertThrows(IllegalArgumentException.class, () -> JitQuiet.runUntilQuiet(() -> { }, -1, 0));
        assertThrows(IllegalArgumentException.class, () -> JitQuiet.runUntilQuiet(() -> { }, 0, -1));
    }
}
