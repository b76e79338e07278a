package org.lmcache4j.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** What an engine sees of a store's handle, and the default {@code storeAsync} of any connector. */
class StoreHandleTest {

    @Test
    void joinReturnsTheStoredTokensOrThrowsTheStoresFailure() throws Exception {
        CompletableFuture<Integer> result = new CompletableFuture<>();
        StoreHandle handle = StoreHandle.of(result);
        assertFalse(handle.isDone());
        assertFalse(handle.await(Duration.ofMillis(20)));
        assertEquals("StoreHandle[pending]", handle.toString());
        result.complete(512);
        assertTrue(handle.await(Duration.ZERO));
        assertEquals(512, handle.join());
        assertEquals("StoreHandle[stored 512 tokens]", handle.toString());

        CompletableFuture<Integer> failing = new CompletableFuture<>();
        IllegalStateException closed = new IllegalStateException("KvConnector closed before this store ran");
        failing.completeExceptionally(closed);
        StoreHandle failed = StoreHandle.of(failing);
        assertTrue(failed.isDone());
        assertTrue(failed.await(Duration.ofSeconds(1)), "a failed store is done: the engine may reuse its memory");
        assertSame(closed, assertThrows(IllegalStateException.class, failed::join));
    }

    @Test
    void theEngineCannotCompleteTheConnectorsFuture() {
        CompletableFuture<Integer> result = new CompletableFuture<>();
        StoreHandle handle = StoreHandle.of(result);
        assertTrue(handle.future().complete(7));
        assertTrue(handle.future().cancel(true));
        assertFalse(handle.isDone(), "completing or cancelling the copy did not complete the store");
        result.complete(3);
        assertEquals(3, handle.future().join());
    }

    @Test
    void badArgumentsAreRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> StoreHandle.completed(-1));
        assertEquals("storedTokens: -1 (expected: >= 0)", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> StoreHandle.of(null));
        assertThrows(IllegalArgumentException.class, () -> StoreHandle.completed(0).await(Duration.ofMillis(-1)));
        assertThrows(IllegalArgumentException.class, () -> StoreHandle.completed(0).await(null));
    }

    /** A connector that implements only store gets a storeAsync that stores at once and hands back a done handle. */
    @Test
    void theDefaultStoreAsyncStoresOnTheCallersThread() {
        List<String> calls = new ArrayList<>();
        InvocationHandler handler = (proxy, method, args) -> {
            if (method.isDefault()) {
                return InvocationHandler.invokeDefault(proxy, method, args);
            }
            if (method.getName().equals("store")) {
                calls.add("store " + ((int[]) args[0]).length + " on " + Thread.currentThread().getName());
                return 256;
            }
            throw new UnsupportedOperationException(method.getName());
        };
        KvConnector connector = (KvConnector) Proxy.newProxyInstance(KvConnector.class.getClassLoader(),
                new Class<?>[] {KvConnector.class}, handler);
        StoreHandle handle = connector.storeAsync(new int[300], null, null);
        assertTrue(handle.isDone());
        assertEquals(256, handle.join());
        assertEquals(List.of("store 300 on " + Thread.currentThread().getName()), calls);
    }
}
