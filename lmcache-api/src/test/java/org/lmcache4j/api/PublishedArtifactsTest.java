package org.lmcache4j.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The BOM keeps up with the build: it names every library module of the reactor (all but the bench and the
 * examples), at the reactor's version, and the repository carries the license the poms declare. The BOM has
 * no parent (importing it must not bring the build's third-party versions), so nothing else ties them.
 */
class PublishedArtifactsTest {

    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Set<String> NOT_LIBRARIES = Set.of("lmcache-bom", "lmcache-bench", "examples", "examples-jlama");

    private static String read(Path p) throws IOException {
        return Files.readString(p);
    }

    private static List<String> all(Pattern p, String text) {
        List<String> out = new ArrayList<>();
        Matcher m = p.matcher(text);
        while (m.find()) {
            out.add(m.group(1));
        }
        return out;
    }

    /** The first {@code <version>} after the artifact's own {@code <artifactId>} (the parent's comes before it). */
    private static String ownVersion(String pom, String artifactId) {
        String tail = pom.substring(pom.indexOf("<artifactId>" + artifactId + "</artifactId>"));
        return all(Pattern.compile("<version>([^<]+)</version>"), tail).getFirst();
    }

    @Test
    void theBomListsEveryLibraryModuleAtTheReactorsVersion() throws IOException {
        String parent = read(ROOT.resolve("pom.xml"));
        String bom = read(ROOT.resolve("lmcache-bom/pom.xml"));
        String version = ownVersion(parent, "lmcache-parent");
        assertEquals(version, ownVersion(bom, "lmcache-bom"), "the BOM's version");
        Set<String> libraries = new TreeSet<>(all(Pattern.compile("<module>([^<]+)</module>"), parent));
        libraries.removeAll(NOT_LIBRARIES);
        Set<String> listed = new TreeSet<>(all(Pattern.compile("<artifactId>([^<]+)</artifactId>"), bom));
        listed.remove("lmcache-bom");
        assertEquals(libraries, listed, "the BOM's artifacts");
        assertEquals(listed.size(), all(Pattern.compile("<version>(\\$\\{project\\.version})</version>"), bom).size(),
                "every artifact at the BOM's own version");
    }

    @Test
    void theRepositoryCarriesTheApacheLicenseThePomsDeclare() throws IOException {
        assertTrue(read(ROOT.resolve("LICENSE")).contains("Apache License\n                           Version 2.0, January 2004"));
        assertTrue(read(ROOT.resolve("pom.xml")).contains("<name>Apache License, Version 2.0</name>"));
        assertTrue(read(ROOT.resolve("lmcache-bom/pom.xml")).contains("<name>Apache License, Version 2.0</name>"));
    }
}
