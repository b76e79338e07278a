package org.lmcache4j.redis;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.SequencedSet;
import org.lmcache4j.api.spi.KvCodecs;
import org.lmcache4j.storage.tier.UrlOptions;

/**
 * Where the {@code remote} tier lives and how it behaves, parsed from {@code LMCACHE_REMOTE_URL}:
 * <pre>
 *   redis://[user[:password]@]host[:port][/db][?option=value&amp;...]
 *   rediss://...                                          TLS
 *   valkey://..., valkeys://...                           the same for Valkey
 *   redis-cluster://host:port,host:port[,...][?...]       a cluster, from any of its nodes
 *   rediss-cluster://, valkey-cluster://, valkeys-cluster://
 * </pre>
 * Options (all optional): {@code capacity} (bytes the tier may hold in its namespace, with a {@code k},
 * {@code m}, {@code g} or {@code t} suffix; default unbounded: the server's {@code maxmemory} and the TTL
 * bound it), {@code ttlSeconds} (0 = keep until evicted), {@code compression} ({@code none} or
 * {@code lz4}), {@code partBytes} (default {@code 1m}), {@code timeoutMillis} (every connect and read;
 * default 1000), {@code poolSize} (connections per node; default 16), {@code breakerFailures} (consecutive
 * failures that open the circuit; default 5), {@code breakerOpenMillis} (how long it stays open before a
 * probe; default 1000), {@code prefix} (first part of every key; default {@code lmc4j}), {@code codec} (how chunks
 * are encoded before they are cut into parts: {@code raw}, the default, or a {@link org.lmcache4j.api.spi.KvCodec}'s
 * name such as {@code shuffle+zstd}, with the codec's module on the path; chunks are read by the codec that stored
 * them, whatever this says; with a codec other than {@code raw}, {@code compression} must be {@code none}: parts
 * are not compressed again) and {@code indexShards}
 * (hash slots each namespace's index is split into, 1 to {@value #MAX_INDEX_SHARDS}; default: 1 on a single
 * server, on a cluster {@value #DEFAULT_CLUSTER_INDEX_SHARDS}, fewer when the capacity would leave a shard
 * less than {@link #MIN_SHARD_BYTES}; a namespace keeps the count it was first claimed with: an engine
 * without the option adopts it, one with another count is refused). The options are read with the tier
 * toolkit's {@link UrlOptions}, as every tier reads its own; what is before the {@code '?'} is parsed here.
 *
 * @param text         the URL as given, password masked (see {@link #mask})
 * @param tls          connect with TLS
 * @param cluster      the endpoints are seeds of a Redis Cluster
 * @param endpoints    at least one; exactly one unless {@code cluster}
 * @param database     logical database (standalone only)
 * @param user         ACL user, empty for the default user
 * @param password     password, empty for none
 * @param capacityBytes budget of the tier in its namespace, {@code Long.MAX_VALUE} when unbounded
 * @param ttlSeconds   lifetime of a stored chunk, 0 for none
 * @param lz4          compress parts with LZ4
 * @param partBytes    bytes of each part of a chunk but the last
 * @param timeoutMillis bound of every connect, read and wait for a pooled connection
 * @param poolSize     connections per node
 * @param breakerFailures   consecutive failures that open the circuit breaker
 * @param breakerOpenMillis time the breaker stays open before it lets one probe through
 * @param keyPrefix    first part of every key
 * @param codec        the {@code codec} option as given, {@value KvCodecs#RAW} when absent (resolved when the tier
 *                     opens, with its KV layout: {@code TierCodec.forTier})
 * @param indexShardsOption the {@code indexShards} option, 0 when not given ({@link #indexShards()} decides)
 */
record RemoteUrl(String text, boolean tls, boolean cluster, List<Endpoint> endpoints, int database, Optional<String> user,
                 Optional<String> password, long capacityBytes, long ttlSeconds, boolean lz4, int partBytes, int timeoutMillis,
                 int poolSize, int breakerFailures, long breakerOpenMillis, String keyPrefix, String codec, int indexShardsOption) {

    static final int DEFAULT_PORT = 6379;
    static final int DEFAULT_PART_BYTES = 1 << 20;
    static final int MIN_PART_BYTES = 4 << 10;
    static final int MAX_PART_BYTES = 512 << 20; // Redis' largest string
    static final int MAX_INDEX_SHARDS = 1024;
    /** Index shards of a namespace on a cluster by default (docs/SCALING.md: how it was chosen). */
    static final int DEFAULT_CLUSTER_INDEX_SHARDS = 16;
    /** The least budget a default shard gets: below it a namespace is split into fewer shards. */
    static final long MIN_SHARD_BYTES = 1L << 30;
    /** The option names, in the order errors list them. */
    private static final SequencedSet<String> OPTIONS = Collections.unmodifiableSequencedSet(new LinkedHashSet<>(List.of(
            "capacity", "ttlSeconds", "compression", "partBytes", "timeoutMillis", "poolSize", "breakerFailures",
            "breakerOpenMillis", "prefix", "codec", "indexShards")));

    /** A node's address. */
    record Endpoint(String host, int port) {
        @Override
        public String toString() {
            return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
        }
    }

    RemoteUrl {
        endpoints = List.copyOf(endpoints);
    }

    /**
     * Parses {@code url}.
     *
     * @throws IllegalArgumentException naming the URL (password masked), the bad part and what was expected
     */
    static RemoteUrl parse(String url) {
        if (url == null || url.isBlank()) {
            throw new IllegalArgumentException("remoteUrl: " + (url == null ? "null" : "blank")
                    + " (expected: redis://host:port, see LMCACHE_REMOTE_URL)");
        }
        String stripped = url.strip();
        return new Parser(stripped, mask(stripped)).parse();
    }

    /**
     * The hash slots each namespace's index is split into: the {@code indexShards} option when given; else 1
     * on a single server (one node gains nothing from shards, and each shard gets only its share of the
     * budget), and on a cluster {@value #DEFAULT_CLUSTER_INDEX_SHARDS} or, when that would leave a shard
     * less than {@link #MIN_SHARD_BYTES} of the capacity, as many as get that much (at least 1).
     */
    int indexShards() {
        if (indexShardsOption > 0) {
            return indexShardsOption;
        }
        if (!cluster) {
            return 1;
        }
        return (int) Math.max(1, Math.min(DEFAULT_CLUSTER_INDEX_SHARDS, capacityBytes / MIN_SHARD_BYTES));
    }

    /**
     * True when the {@code indexShards} option is given: then the count must be the namespace's; else
     * {@link #indexShards()} is a default, and a namespace already split otherwise keeps its count.
     */
    boolean indexShardsGiven() {
        return indexShardsOption > 0;
    }

    /** The URL without its password, for logs and messages. */
    @Override
    public String toString() {
        return text;
    }

    /**
     * {@code url} with nothing of a password in it, however malformed, for logs and messages: the password
     * of the user info is masked (all of a lone user info, which is a password), and so are the values of
     * options other than the known ones ({@code ?password=...}). When a {@code '/'} or {@code '?'} comes
     * before the last {@code '@'}, what lies between the scheme and that {@code '@'} may be a password with
     * a reserved character in it, so all of it is masked.
     */
    static String mask(String url) {
        int sep = url.indexOf("://");
        int from = sep < 0 ? 0 : sep + 3;
        StringBuilder out = new StringBuilder(url.length()).append(url, 0, from);
        String rest = url.substring(from);
        int at = url.lastIndexOf('@');
        if (at >= from) {
            String info = url.substring(from, at);
            int colon = info.indexOf(':');
            out.append(colon < 0 || hasReserved(info) ? "***" : info.substring(0, colon) + ":***");
            rest = url.substring(at);
        }
        int q = rest.indexOf('?');
        if (q < 0) {
            return out.append(rest).toString();
        }
        out.append(rest, 0, q + 1);
        String[] pairs = rest.substring(q + 1).split("&", -1);
        for (int i = 0; i < pairs.length; i++) {
            int eq = pairs[i].indexOf('=');
            String name = eq > 0 ? pairs[i].substring(0, eq) : "";
            out.append(i == 0 ? "" : "&").append(eq <= 0 ? "***" : OPTIONS.contains(name) ? pairs[i] : name + "=***");
        }
        return out.toString();
    }

    /** True when {@code userInfo} holds a character that ends the user info of a well-formed URL. */
    private static boolean hasReserved(String userInfo) {
        return userInfo.indexOf('/') >= 0 || userInfo.indexOf('?') >= 0;
    }

    /** One parse, with the masked URL at hand for every message. */
    private static final class Parser {
        private final String url;
        private final String masked;
        /** How every error names the URL: {@code remoteUrl '<masked>'}. */
        private final String subject;

        Parser(String url, String masked) {
            this.url = url;
            this.masked = masked;
            this.subject = "remoteUrl '" + masked + "'";
        }

        RemoteUrl parse() {
            int sep = url.indexOf("://");
            if (sep < 0) {
                throw bad("no scheme", "redis://, rediss://, valkey://, valkeys:// or their -cluster forms");
            }
            int lastAt = url.lastIndexOf('@');
            if (lastAt > sep && hasReserved(url.substring(sep + 3, lastAt))) {
                // a password with '/' or '?' in it, or an '@' in the path or query: the URL cannot be split safely
                throw bad("an '@' after a '/' or '?'", "user:password@host[:port][/db][?options], with '/', '?' and '@'"
                        + " in a user name, password or option value percent-encoded as %2F, %3F and %40");
            }
            String scheme = url.substring(0, sep).toLowerCase(Locale.ROOT);
            boolean cluster = scheme.endsWith("-cluster");
            String base = cluster ? scheme.substring(0, scheme.length() - "-cluster".length()) : scheme;
            boolean tls = switch (base) {
                case "redis", "valkey" -> false;
                case "rediss", "valkeys" -> true;
                default -> throw bad("scheme '" + scheme + "'", "redis, rediss, valkey, valkeys, or one of them + '-cluster'");
            };
            String rest = url.substring(sep + 3);
            String query = "";
            int q = rest.indexOf('?');
            if (q >= 0) {
                query = rest.substring(q + 1);
                rest = rest.substring(0, q);
            }
            String path = "";
            int slash = rest.indexOf('/');
            if (slash >= 0) {
                path = rest.substring(slash + 1);
                rest = rest.substring(0, slash);
            }
            Optional<String> user = Optional.empty();
            Optional<String> password = Optional.empty();
            int at = rest.lastIndexOf('@');
            if (at >= 0) {
                String info = rest.substring(0, at);
                rest = rest.substring(at + 1);
                int colon = info.indexOf(':');
                if (colon < 0) {
                    // redis://secret@host: as in redis-cli and Lettuce, a lone user info is the default user's password
                    password = Optional.of(decode(info, "the user info")).filter(s -> !s.isEmpty());
                } else {
                    user = Optional.of(decode(info.substring(0, colon), "the user info")).filter(s -> !s.isEmpty());
                    password = Optional.of(decode(info.substring(colon + 1), "the user info")).filter(s -> !s.isEmpty());
                }
            }
            List<Endpoint> endpoints = endpoints(rest, cluster);
            int database = database(path, cluster);
            UrlOptions options = UrlOptions.parse(subject, query, OPTIONS);
            return new RemoteUrl(masked, tls, cluster, endpoints, database, user, password,
                    options.bytes("capacity", Long.MAX_VALUE, 1, Long.MAX_VALUE),
                    options.wholeNumber("ttlSeconds", 0, 0, Integer.MAX_VALUE),
                    compression(options),
                    (int) options.bytes("partBytes", DEFAULT_PART_BYTES, MIN_PART_BYTES, MAX_PART_BYTES),
                    (int) options.wholeNumber("timeoutMillis", 1000, 1, 600_000),
                    (int) options.wholeNumber("poolSize", 16, 1, 1024),
                    (int) options.wholeNumber("breakerFailures", 5, 1, 1_000_000),
                    options.wholeNumber("breakerOpenMillis", 1000, 1, 3_600_000),
                    prefix(options),
                    codec(options),
                    (int) options.wholeNumber("indexShards", 0, 1, MAX_INDEX_SHARDS));
        }

        private List<Endpoint> endpoints(String hosts, boolean cluster) {
            if (hosts.isEmpty()) {
                throw bad("no host", "host[:port]");
            }
            String[] parts = hosts.split(",", -1);
            if (parts.length > 1 && !cluster) {
                throw bad(parts.length + " hosts", "one host; list several only in a -cluster URL");
            }
            List<Endpoint> out = new ArrayList<>();
            for (String part : parts) {
                out.add(endpoint(part.strip()));
            }
            return out;
        }

        private Endpoint endpoint(String hostPort) {
            String host;
            String port = null;
            if (hostPort.startsWith("[")) {
                int close = hostPort.indexOf(']');
                if (close < 0) {
                    throw bad("host '" + hostPort + "'", "[ipv6]:port");
                }
                host = hostPort.substring(1, close);
                String after = hostPort.substring(close + 1);
                if (!after.isEmpty()) {
                    if (!after.startsWith(":")) {
                        throw bad("host '" + hostPort + "'", "[ipv6]:port");
                    }
                    port = after.substring(1);
                }
            } else {
                int colon = hostPort.lastIndexOf(':');
                host = colon < 0 ? hostPort : hostPort.substring(0, colon);
                port = colon < 0 ? null : hostPort.substring(colon + 1);
                if (host.contains(":")) {
                    throw bad("host '" + hostPort + "'", "an IPv6 address in brackets: [::1]:6379");
                }
            }
            if (host.isEmpty()) {
                throw bad("empty host in '" + hostPort + "'", "host[:port]");
            }
            int p = DEFAULT_PORT;
            if (port != null) {
                try {
                    p = Integer.parseInt(port);
                } catch (NumberFormatException e) {
                    p = -1;
                }
                if (p < 1 || p > 65535) {
                    throw bad("port '" + port + "'", "1 to 65535");
                }
            }
            return new Endpoint(host, p);
        }

        private int database(String path, boolean cluster) {
            if (path.isEmpty()) {
                return 0;
            }
            int db;
            try {
                db = Integer.parseInt(path);
            } catch (NumberFormatException e) {
                throw bad("database '" + path + "'", "a number: redis://host:port/0");
            }
            if (db < 0) {
                throw bad("database " + db, ">= 0");
            }
            if (cluster && db != 0) {
                throw bad("database " + db, "0: a Redis Cluster has only database 0");
            }
            return db;
        }

        private boolean compression(UrlOptions options) {
            String c = options.value("compression").orElse("none");
            return switch (c.toLowerCase(Locale.ROOT)) {
                case "none", "off", "" -> false;
                case "lz4" -> true;
                default -> throw bad("compression '" + c + "'", "none or lz4");
            };
        }

        /**
         * The {@code codec} option; refused with {@code compression=lz4} unless raw: a codec's output is what
         * the parts store, and LZ4 over an encoding (already compressed, or quantized) costs a second pass for little.
         */
        private String codec(UrlOptions options) {
            String c = options.value("codec").map(String::strip).filter(v -> !v.isEmpty()).orElse(KvCodecs.RAW);
            if (!c.equalsIgnoreCase(KvCodecs.RAW) && compression(options)) {
                throw bad("codec '" + c + "' with compression 'lz4'", "compression=none with a codec (the codec's"
                        + " encoding is stored as it is; parts are not compressed again), or codec=raw with compression=lz4");
            }
            return c;
        }

        private String prefix(UrlOptions options) {
            String p = options.value("prefix").orElse("lmc4j");
            if (p.isEmpty() || !p.chars().allMatch(ch -> ch > ' ' && ch < 127 && ch != '{' && ch != '}')) {
                throw bad("prefix '" + p + "'", "printable ASCII without spaces or braces");
            }
            return p;
        }

        private String decode(String s, String where) {
            return UrlOptions.decode(subject, s, where);
        }

        private IllegalArgumentException bad(String what, String expected) {
            return UrlOptions.bad(subject, what, expected);
        }
    }
}
