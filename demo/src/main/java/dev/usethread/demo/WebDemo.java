package dev.usethread.demo;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.usethread.CancelEvent;
import dev.usethread.Cancellation;
import dev.usethread.Emitter;
import dev.usethread.Result;
import dev.usethread.ResultState;
import dev.usethread.UseThread;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;

/**
 * The web demo ({@code demo/run.sh --web}): Solara's {@code use_thread} example on a page served by
 * the JDK's HTTP server, with server-sent events. A prime-counting job streams partial results, can
 * be cancelled and retried, and restarts when its input (a dependency) changes; a second box runs a
 * regular expression that may backtrack for ever, and stops it.
 */
public final class WebDemo {
    static final int DEFAULT_LIMIT = 10_000_000;
    static final int MAX_LIMIT = 200_000_000;

    /** A partial or final result of the prime count. */
    record Progress(int checked, int found, int limit) {
    }

    /** What the regex box asked for. */
    record RegexRequest(String pattern, String input) {
    }

    private final AtomicReference<Integer> limit = new AtomicReference<>(DEFAULT_LIMIT);
    private final AtomicReference<RegexRequest> regexRequest = new AtomicReference<>();
    private final ExecutorService broadcaster = Executors.newSingleThreadExecutor(daemon("web-demo-events"));
    private final Set<BlockingQueue<String>> clients = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean flushPending = new AtomicBoolean();
    private final JobClock primesClock = new JobClock();
    private final JobClock regexClock = new JobClock();
    private final UseThread<Progress> primes;
    private volatile UseThread<String> regex; // made on the first Run, so nothing backtracks at start-up
    private volatile String lastEvent = "";

    WebDemo() {
        primes = UseThread.options().name("primes").dependencies(DEFAULT_LIMIT).listenerExecutor(broadcaster)
                .useThread((CancelEvent cancel, Emitter<Progress> emit) -> countPrimes(limit.get(), emit));
        primes.subscribe(r -> changed(primesClock, r));
    }

    public static void main(String[] args) throws Exception {
        int port = 8080;
        try {
            for (int i = 0; i < args.length; i++) {
                if (args[i].equals("--port") && i + 1 < args.length) {
                    port = parsePort(args[++i]);
                } else {
                    throw new IllegalArgumentException("unknown argument '" + args[i] + "' (expected: --port N)");
                }
            }
        } catch (IllegalArgumentException e) {
            System.err.println("usethread web demo: " + e.getMessage());
            System.exit(2);
        }
        WebDemo demo = new WebDemo();
        HttpServer server = demo.start(port);
        System.out.println("usethread web demo: http://localhost:" + server.getAddress().getPort() + "/"
                + "   (agent installed: " + Cancellation.isIntrusive() + "; Ctrl-C to stop)");
        new java.util.concurrent.CountDownLatch(1).await(); // the server's threads are daemons: serve until killed
    }

    private static int parsePort(String text) {
        try {
            int port = Integer.parseInt(text);
            if (port >= 0 && port <= 65535) {
                return port;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new IllegalArgumentException("--port must be 0..65535, not '" + text + "'");
    }

    HttpServer start(int port) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 0);
        server.setExecutor(Executors.newCachedThreadPool(daemon("web-demo-http")));
        server.createContext("/", this::page);
        server.createContext("/events", this::events);
        server.createContext("/primes/", this::primesAction);
        server.createContext("/regex/", this::regexAction);
        server.start();
        return server;
    }

    // ---- the jobs ----

    /** Counts primes below {@code limit} by trial division, emitting about 400 partial results. */
    static void countPrimes(int limit, Emitter<Progress> emit) {
        int step = Math.max(1, limit / 400);
        int found = 0;
        for (int n = 2; n < limit; n++) {
            if (Demo.isPrime(n)) {
                found++;
            }
            if (n % step == 0) {
                emit.emit(new Progress(n, found, limit)); // also a cancellation point, agent or not
            }
        }
        emit.emit(new Progress(limit, found, limit));
    }

    private String runRegex() {
        RegexRequest request = regexRequest.get();
        Pattern pattern = Pattern.compile(request.pattern());
        boolean matches = pattern.matcher(request.input()).matches(); // java.util.regex: stopped by the agent
        return matches ? "matches" : "does not match";
    }

    // ---- HTTP ----

    private void page(HttpExchange exchange) throws IOException {
        try (exchange) {
            if (!exchange.getRequestURI().getPath().equals("/")) {
                send(exchange, 404, "text/plain", "not found: " + exchange.getRequestURI().getPath());
                return;
            }
            try (InputStream in = WebDemo.class.getResourceAsStream("web-demo.html")) {
                send(exchange, 200, "text/html; charset=utf-8", new String(in.readAllBytes(), StandardCharsets.UTF_8));
            }
        }
    }

    private void events(HttpExchange exchange) throws IOException {
        BlockingQueue<String> queue = new LinkedBlockingQueue<>();
        exchange.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        exchange.sendResponseHeaders(200, 0);
        clients.add(queue);
        try (exchange; OutputStream out = exchange.getResponseBody()) {
            queue.add(state());
            while (true) {
                String event = queue.poll(15, TimeUnit.SECONDS);
                // the latest state only: a slow browser skips intermediate snapshots
                String latest;
                while ((latest = queue.poll()) != null) {
                    event = latest;
                }
                out.write((event == null ? ": keep-alive\n\n" : "data: " + event + "\n\n").getBytes(StandardCharsets.UTF_8));
                out.flush();
            }
        } catch (IOException | InterruptedException gone) {
            // the page was closed
        } finally {
            clients.remove(queue);
        }
    }

    private void primesAction(HttpExchange exchange) throws IOException {
        try (exchange) {
            if (!post(exchange)) {
                return;
            }
            String action = exchange.getRequestURI().getPath().substring("/primes/".length());
            switch (action) {
                case "cancel" -> {
                    primesClock.cancelRequested();
                    primes.cancel();
                }
                case "retry" -> primes.retry();
                case "limit" -> {
                    String text = form(exchange).getOrDefault("limit", "");
                    int value;
                    try {
                        value = Integer.parseInt(text.trim());
                    } catch (NumberFormatException e) {
                        send(exchange, 400, "text/plain", "limit must be a whole number, not '" + text + "'");
                        return;
                    }
                    if (value < 2 || value > MAX_LIMIT) {
                        send(exchange, 400, "text/plain", "limit must be 2.." + MAX_LIMIT + ", not " + value);
                        return;
                    }
                    limit.set(value);
                    primes.setDependencies(value); // restarts only if it changed; a running job is superseded
                }
                default -> {
                    send(exchange, 404, "text/plain", "no action '" + action + "'");
                    return;
                }
            }
            send(exchange, 204, "text/plain", "");
        }
    }

    private synchronized void regexAction(HttpExchange exchange) throws IOException {
        try (exchange) {
            if (!post(exchange)) {
                return;
            }
            String action = exchange.getRequestURI().getPath().substring("/regex/".length());
            if (action.equals("run")) {
                Map<String, String> form = form(exchange);
                regexRequest.set(new RegexRequest(form.getOrDefault("pattern", ""), form.getOrDefault("input", "")));
                if (regex == null) {
                    regex = UseThread.options().name("regex").listenerExecutor(broadcaster).useThread(this::runRegex);
                    regex.subscribe(r -> changed(regexClock, r));
                } else {
                    regex.retry();
                }
            } else if (action.equals("cancel")) {
                if (regex != null) {
                    regexClock.cancelRequested();
                    regex.cancel();
                }
            } else {
                send(exchange, 404, "text/plain", "no action '" + action + "'");
                return;
            }
            send(exchange, 204, "text/plain", "");
        }
    }

    private static boolean post(HttpExchange exchange) throws IOException {
        if (exchange.getRequestMethod().equals("POST")) {
            return true;
        }
        send(exchange, 405, "text/plain", "use POST, not " + exchange.getRequestMethod());
        return false;
    }

    private static Map<String, String> form(HttpExchange exchange) throws IOException {
        String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
        Map<String, String> fields = new HashMap<>();
        for (String pair : body.split("&")) {
            int eq = pair.indexOf('=');
            if (eq > 0) {
                fields.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
                        URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
            }
        }
        return fields;
    }

    private static void send(HttpExchange exchange, int status, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", type);
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
        if (bytes.length > 0) {
            exchange.getResponseBody().write(bytes);
        }
    }

    // ---- state to the pages ----

    /** Runs on the broadcaster thread (the jobs' listener executor): one snapshot at a time, in order. */
    private void changed(JobClock clock, Result<?> r) {
        clock.saw(r);
        String event = state();
        if (!event.equals(lastEvent)) {
            lastEvent = event;
            for (BlockingQueue<String> client : clients) {
                client.add(event);
            }
        }
    }

    private String state() {
        UseThread<String> regexJob = regex;
        return "{\"agent\":" + Cancellation.isIntrusive()
                + ",\"primes\":" + json(primes.result(), primesClock, progressJson(primes.result().value()))
                + ",\"regex\":" + (regexJob == null ? "{\"state\":\"INITIAL\",\"run\":0}"
                        : json(regexJob.result(), regexClock, quote(regexJob.result().value())))
                + "}";
    }

    private static String progressJson(Progress p) {
        return p == null ? "null" : "{\"checked\":" + p.checked() + ",\"found\":" + p.found() + ",\"limit\":" + p.limit() + "}";
    }

    private static String json(Result<?> r, JobClock clock, String value) {
        return "{\"state\":\"" + r.state() + "\",\"run\":" + r.run() + ",\"value\":" + value
                + ",\"error\":" + quote(r.error() == null ? null : r.error().getClass().getSimpleName() + ": " + firstLine(r.error().getMessage()))
                + ",\"elapsedMs\":" + clock.elapsedMillis(r) + ",\"cancelMs\":" + clock.cancelMillis() + "}";
    }

    private static String firstLine(String message) {
        return message == null ? "" : message.lines().findFirst().orElse("");
    }

    static String quote(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20) {
                b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append('"').toString();
    }

    /** When a job's run started and ended, and how long its last cancellation took. */
    private static final class JobClock {
        private long run = -1;
        private long startNanos;
        private long endNanos;
        private volatile long cancelAt;
        private long cancelMillis = -1;

        synchronized void saw(Result<?> r) {
            if (r.run() != run) {
                run = r.run();
                startNanos = System.nanoTime();
                endNanos = 0;
                cancelMillis = -1;
            }
            if (r.state().isTerminal() && endNanos == 0) {
                endNanos = System.nanoTime();
                if (r.state() == ResultState.CANCELLED && cancelAt != 0) {
                    cancelMillis = (endNanos - cancelAt) / 1_000_000;
                }
                cancelAt = 0;
            }
        }

        void cancelRequested() {
            cancelAt = System.nanoTime();
        }

        synchronized long elapsedMillis(Result<?> r) {
            if (r.run() != run || run == 0) {
                return 0;
            }
            return ((endNanos != 0 ? endNanos : System.nanoTime()) - startNanos) / 1_000_000;
        }

        synchronized long cancelMillis() {
            return cancelMillis;
        }
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return task -> {
            Thread t = new Thread(task, name);
            t.setDaemon(true);
            return t;
        };
    }
}
