package org.lmcache4j.bench.workload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Repeated runs: each field's median over the runs, every run's value in run order, rounded as reported. */
class RunSeriesTest {

    @Test
    void anOddNumberOfRunsReportsTheMiddleValue() {
        RunSeries s = new RunSeries();
        for (double v : new double[] {1.30, 1.10, 1.20, 5.0, 1.15}) {
            s.add("disk_read_vs_raw_ratio", v);
        }
        Map<String, Object> report = new LinkedHashMap<>();
        s.putInto(report, "disk_read_vs_raw_ratio");
        assertEquals(1.2, report.get("disk_read_vs_raw_ratio"));
        assertEquals(List.of(1.3, 1.1, 1.2, 5.0, 1.15), report.get("disk_read_vs_raw_ratio_runs"), "in run order");
        assertEquals(List.of("disk_read_vs_raw_ratio", "disk_read_vs_raw_ratio_runs"), List.copyOf(report.keySet()));
    }

    @Test
    void anEvenNumberOfRunsReportsTheMeanOfTheTwoMiddleValues() {
        RunSeries s = new RunSeries();
        s.add("miss_overhead_ratio", 1.0123);
        s.add("miss_overhead_ratio", 1.1);
        s.add("miss_overhead_ratio", 0.99);
        s.add("miss_overhead_ratio", 2.0);
        assertEquals(List.of(1.012, 1.1, 0.99, 2.0), s.runs("miss_overhead_ratio"), "rounded to three decimals, as printed");
        assertEquals(1.056, s.median("miss_overhead_ratio"));
    }

    @Test
    void oneRunIsItsOwnMedianWithAOneElementList() {
        RunSeries s = new RunSeries();
        s.add("lookup_us_per_chunk", 2.34567);
        Map<String, Object> report = new LinkedHashMap<>();
        s.putInto(report, "lookup_us_per_chunk");
        assertEquals(2.346, report.get("lookup_us_per_chunk"));
        assertEquals(List.of(2.346), report.get("lookup_us_per_chunk_runs"));
    }

    @Test
    void aFieldNeverRecordedIsLeftOut() {
        Map<String, Object> report = new LinkedHashMap<>();
        new RunSeries().putInto(report, "retrieve_vs_copy_ratio");
        assertTrue(report.isEmpty());
        assertTrue(Double.isNaN(RunSeries.median(List.of())));
        assertFalse(Double.isNaN(RunSeries.median(List.of(3.0))));
    }
}
