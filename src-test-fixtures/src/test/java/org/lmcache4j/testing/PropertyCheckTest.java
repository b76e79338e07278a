package org.lmcache4j.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The property runner: a failure names a replay that draws exactly what the failing try drew. */
class PropertyCheckTest {

    @Test
    void aReplayDrawsWhatTheFailingTryDrewSizesIncluded() {
        // regression: the replay ran the seed as try 1 of 1, so Gen.size drew from another range than the
        // failing try (a later one of many) and the failure did not reproduce
        assumeTrue(System.getProperty(PropertyCheck.SEED_PROPERTY) == null, "a replay seed is set for this run");
        List<String> draws = new ArrayList<>();
        AssertionError failure = assertThrows(AssertionError.class, () -> PropertyCheck.forAll("fails on try 40", 50, gen -> {
            draws.add(draws(gen));
            if (draws.size() == 40) {
                throw new IllegalStateException("try 40 fails");
            }
        }));
        Matcher m = Pattern.compile("-D" + Pattern.quote(PropertyCheck.SEED_PROPERTY) + "=(\\S+)\\)").matcher(failure.getMessage());
        assertTrue(m.find(), failure.getMessage());
        List<String> replayed = new ArrayList<>();
        System.setProperty(PropertyCheck.SEED_PROPERTY, m.group(1));
        try {
            PropertyCheck.forAll("replayed", 50, gen -> replayed.add(draws(gen)));
        } finally {
            System.clearProperty(PropertyCheck.SEED_PROPERTY);
        }
        assertEquals(List.of(draws.get(39)), replayed);
    }

    @Test
    void aMalformedReplayValueIsRejectedByName() {
        assumeTrue(System.getProperty(PropertyCheck.SEED_PROPERTY) == null, "a replay seed is set for this run");
        for (String bad : new String[] {"x", "1:0:5", "1:6:5", "1:2", "1:2:3:4"}) {
            System.setProperty(PropertyCheck.SEED_PROPERTY, bad);
            try {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> PropertyCheck.forAll("never runs", 1, gen -> { }), bad);
                assertTrue(e.getMessage().contains("'" + bad + "'"), e.getMessage());
            } finally {
                System.clearProperty(PropertyCheck.SEED_PROPERTY);
            }
        }
    }

    private static String draws(PropertyCheck.Gen gen) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < 20; i++) {
            s.append(gen.size(1000)).append(',');
        }
        return s.toString();
    }
}
