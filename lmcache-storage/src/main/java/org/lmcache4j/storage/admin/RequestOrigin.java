package org.lmcache4j.storage.admin;

import com.sun.net.httpserver.HttpExchange;
import java.util.Optional;

/**
 * Where an admin request comes from, as far as it says: a request a web page sent (an {@code Origin} header
 * naming another host than loopback) or one addressed to another host name while the endpoint is bound to
 * loopback (DNS rebinding) is refused, so a browser on the machine cannot clear or read the cache for a site.
 */
final class RequestOrigin {

    private RequestOrigin() {
    }

    /**
     * Why a request is refused as coming from elsewhere: an {@code Origin} (browsers send it with cross-site requests;
     * other clients do not) that is not a loopback one, or, while bound to loopback, a {@code Host} that is not a
     * loopback name (a rebound DNS name pointing at 127.0.0.1).
     */
    static Optional<String> refusal(HttpExchange exchange, AdminOptions options) {
        String origin = exchange.getRequestHeaders().getFirst("Origin");
        if (origin != null && !origin.equals("null") && !loopbackHost(originHost(origin))) {
            return Optional.of("Origin " + origin + ": requests from web pages are refused (expected: no Origin, or a loopback one)");
        }
        String host = exchange.getRequestHeaders().getFirst("Host");
        if (!options.allowNonLoopback() && host != null && !loopbackHost(hostName(host)) && !hostName(host).equalsIgnoreCase(OWN_NAME)) {
            return Optional.of("Host " + host + ": this endpoint is bound to loopback (expected: localhost, 127.0.0.1, [::1] or "
                    + OWN_NAME + ")");
        }
        return Optional.empty();
    }

    /** The host of an Origin header, or null when it is not a URL. */
    private static String originHost(String origin) {
        try {
            return java.net.URI.create(origin.strip()).getHost();
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** The name part of a Host header: without its port, an IPv6 literal without its brackets. */
    private static String hostName(String host) {
        String h = host.strip();
        if (h.startsWith("[")) {
            int end = h.indexOf(']');
            return end < 0 ? h : h.substring(1, end);
        }
        int colon = h.lastIndexOf(':');
        return colon < 0 ? h : h.substring(0, colon);
    }

    /** This machine's own host name (which /etc/hosts often maps to 127.0.1.1): a name a web page cannot rebind. */
    private static final String OWN_NAME = ownName();

    /** The kernel's host name, read without a DNS lookup (which can hang on a badly configured machine). */
    private static String ownName() {
        try {
            String name = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/sys/kernel/hostname")).strip();
            return name.isEmpty() ? "localhost" : name;
        } catch (java.io.IOException | RuntimeException e) {
            String env = System.getenv("HOSTNAME");
            return env == null || env.isBlank() ? "localhost" : env.strip();
        }
    }

    private static boolean loopbackHost(String host) {
        if (host == null) {
            return false;
        }
        String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        return h.equalsIgnoreCase("localhost") || h.startsWith("127.") || h.equals("::1") || h.equals("0:0:0:0:0:0:0:1");
    }

}
