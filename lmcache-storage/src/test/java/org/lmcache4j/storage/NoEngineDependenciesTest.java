package org.lmcache4j.storage;

import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The library pulls nothing of an engine's tree: no class of Jlama (examples-jlama's engine) or of its
 * dependencies is on this module's test class path, which holds lmcache-storage's and lmcache-api's whole
 * dependency tree. The build checks the same on every library module (the parent pom's
 * {@code no-engine-dependencies} enforcer rule); this fails by name if a dependency brings one in anyway.
 */
class NoEngineDependenciesTest {

    @ParameterizedTest
    @ValueSource(strings = {
        "com/github/tjake/jlama/model/AbstractModel.class", // jlama-core
        "com/google/common/base/Preconditions.class", // guava
        "com/fasterxml/jackson/databind/ObjectMapper.class", // jackson-databind
        "com/fasterxml/jackson/core/JsonParser.class", // jackson-core
        "com/hubspot/jinjava/Jinjava.class", // jinjava
        "org/jctools/queues/MpmcArrayQueue.class", // jctools-core
        "net/jafama/FastMath.class", // jafama
        "net/fellbaum/jemoji/EmojiManager.class", // jemoji
    })
    void noClassOfJlamasTreeIsOnTheClassPath(String resource) {
        assertNull(NoEngineDependenciesTest.class.getClassLoader().getResource(resource), resource);
    }
}
