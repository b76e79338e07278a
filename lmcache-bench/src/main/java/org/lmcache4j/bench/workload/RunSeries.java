package org.lmcache4j.bench.workload;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Figures measured once per run of a repeated benchmark: for each field, every run's value (rounded as
 * reported) and their median. The report's {@code <field>} holds the median and {@code <field>_runs} the
 * values in run order.
 */
public final class RunSeries {

    /** Suffix of the field that lists every run's value. */
    static final String RUNS_SUFFIX = "_runs";

    private final Map<String, List<Double>> values = new LinkedHashMap<>();

    /** Records one run's {@code value} of {@code field} (rounded to three decimals, as the report prints it). */
    public void add(String field, double value) {
        values.computeIfAbsent(field, f -> new ArrayList<>()).add(WorkloadRunner.round(value));
    }

    /** Every run's value of {@code field}, in run order (empty when never recorded). */
    List<Double> runs(String field) {
        return List.copyOf(values.getOrDefault(field, List.of()));
    }

    /** The median of {@code field}'s values, rounded; NaN when it has none. */
    public double median(String field) {
        return WorkloadRunner.round(median(runs(field)));
    }

    /** Puts {@code field} (the median) and {@code field_runs} (every value) into {@code report}, when recorded. */
    public void putInto(Map<String, Object> report, String field) {
        if (values.containsKey(field)) {
            report.put(field, median(field));
            report.put(field + RUNS_SUFFIX, runs(field));
        }
    }

    /** The middle value; for an even count, the mean of the two middle values; NaN for none. */
    public static double median(List<Double> values) {
        if (values.isEmpty()) {
            return Double.NaN;
        }
        double[] v = values.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(v);
        int mid = v.length / 2;
        return v.length % 2 == 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
    }
}
