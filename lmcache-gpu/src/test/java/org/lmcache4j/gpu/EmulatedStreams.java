package org.lmcache4j.gpu;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.BooleanSupplier;

/**
 * The streams and events of {@link EmulatedDevice}: per stream a queue of operations that run only when
 * the host must wait ({@link #runUntil}), the next one drawn at random among the streams whose head is
 * ready. Only events order two streams; a wait refers to the event's record current when the wait was
 * queued (a later re-record does not count), as in CUDA. Stream 0, the legacy default stream, exists
 * from the start and has none of CUDA's implicit synchronization, which makes the emulation stricter.
 * Not thread-safe: {@link EmulatedDevice} serializes calls.
 */
final class EmulatedStreams {

    private record Op(BooleanSupplier ready, Runnable action) {
    }

    private static final class Event {
        long recorded;
        long completed;
        boolean destroyed;
    }

    private final SplittableRandom scheduling;
    private final Map<Long, Deque<Op>> streams = new LinkedHashMap<>();
    private final Map<Long, Event> events = new HashMap<>();
    private long nextHandle = 0x5000;

    EmulatedStreams(long schedulingSeed) {
        this.scheduling = new SplittableRandom(schedulingSeed);
        streams.put(0L, new ArrayDeque<>());
    }

    CudaStream create() {
        long handle = nextHandle++;
        streams.put(handle, new ArrayDeque<>());
        return new CudaStream(handle);
    }

    /** Destroys {@code stream} once its queued work has run (as cuStreamDestroy lets it finish). */
    void destroy(CudaStream stream) {
        synchronize(stream);
        streams.remove(stream.handle());
    }

    /** Queues {@code action} on {@code stream}. */
    void enqueue(CudaStream stream, Runnable action) {
        queue(stream).add(new Op(() -> true, action));
    }

    void synchronize(CudaStream stream) {
        runUntil(() -> queue(stream).isEmpty(), "synchronizing " + stream);
    }

    CudaEvent createEvent() {
        long handle = nextHandle++;
        events.put(handle, new Event());
        return new CudaEvent(handle);
    }

    void destroyEvent(CudaEvent event) {
        event(event).destroyed = true;
    }

    void record(CudaEvent event, CudaStream stream) {
        Event e = event(event);
        long generation = ++e.recorded;
        enqueue(stream, () -> e.completed = Math.max(e.completed, generation));
    }

    void waitFor(CudaStream stream, CudaEvent event) {
        Event e = event(event);
        long generation = e.recorded;
        if (generation > 0) { // waiting on a never-recorded event is a no-op in CUDA
            queue(stream).add(new Op(() -> e.completed >= generation, () -> { }));
        }
    }

    void synchronize(CudaEvent event) {
        Event e = event(event);
        long generation = e.recorded;
        runUntil(() -> e.completed >= generation, "synchronizing " + event);
    }

    /** Runs ready operations, streams picked at random, until {@code done}; fails on a deadlock. */
    void runUntil(BooleanSupplier done, String why) {
        while (!done.getAsBoolean()) {
            List<Deque<Op>> ready = new ArrayList<>();
            for (Deque<Op> q : streams.values()) {
                if (!q.isEmpty() && q.peek().ready().getAsBoolean()) {
                    ready.add(q);
                }
            }
            if (ready.isEmpty()) {
                throw new AssertionError("deadlock while " + why + ": every stream waits for an event never completed");
            }
            ready.get(scheduling.nextInt(ready.size())).poll().action().run();
        }
    }

    /** Runs everything queued. */
    void settle() {
        runUntil(() -> streams.values().stream().allMatch(Deque::isEmpty), "settling");
    }

    /** Streams created and not destroyed (the legacy default stream not counted). */
    int liveStreams() {
        return streams.size() - 1;
    }

    long liveEvents() {
        return events.values().stream().filter(e -> !e.destroyed).count();
    }

    private Deque<Op> queue(CudaStream stream) {
        Deque<Op> q = streams.get(stream.handle());
        if (q == null) {
            throw new AssertionError("unknown or destroyed " + stream);
        }
        return q;
    }

    private Event event(CudaEvent event) {
        Event e = events.get(event.handle());
        if (e == null || e.destroyed) {
            throw new AssertionError("unknown or destroyed " + event);
        }
        return e;
    }
}
