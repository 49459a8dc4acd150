package dev.usethread.it.world;

import dev.usethread.agent.cache.WovenClassCache;
import dev.usethread.agent.weave.Weaver;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

/**
 * "Weave the world", run in a JVM with bytecode verification forced on: weaves every class of each
 * library jar given, defines the woven classes in a fresh loader and links them (which verifies
 * them), without running any static initializer. A class that fails to link woven is linked again
 * unwoven: only failures that the unwoven class does not have count against the weaver. Every outcome
 * also goes into a woven-class cache, which, written and read again, must give back the same bytes.
 *
 * <p>Arguments: the library jars to weave, then "--", then further jars they need.
 */
public final class WeaveWorld {
    public static void main(String[] args) throws Exception {
        List<File> libs = new ArrayList<>();
        List<URL> path = new ArrayList<>();
        boolean extra = false;
        for (String a : args) {
            if (a.equals("--")) {
                extra = true;
                continue;
            }
            if (!extra) {
                libs.add(new File(a));
            }
            path.add(new File(a).toURI().toURL());
        }
        URL[] urls = path.toArray(new URL[0]);
        WovenLoader woven = new WovenLoader(urls);
        URLClassLoader plain = new URLClassLoader("plain", urls, ClassLoader.getPlatformClassLoader());
        long weavingCaused = 0;
        long skippedWithoutReason = 0;
        Path cacheDir = Files.createTempDirectory("weave-world-cache");
        WovenClassCache cache = WovenClassCache.open(cacheDir, 1L);
        List<Object[]> cached = new ArrayList<>(); // origin, class file, woven bytes
        for (File lib : libs) {
            String origin = lib.toURI().toURL().toString();
            long classes = 0;
            long wovenClasses = 0;
            long polls = 0;
            long noPolls = 0;
            long skipped = 0;
            long linked = 0;
            long unrelated = 0;
            long verifyErrors = 0;
            long weaveNanos = 0;
            try (JarFile jar = new JarFile(lib)) {
                for (Enumeration<JarEntry> e = jar.entries(); e.hasMoreElements();) {
                    JarEntry entry = e.nextElement();
                    String n = entry.getName();
                    if (!n.endsWith(".class") || n.startsWith("META-INF/") || n.endsWith("module-info.class")) {
                        continue;
                    }
                    classes++;
                    byte[] bytes;
                    try (InputStream in = jar.getInputStream(entry)) {
                        bytes = in.readAllBytes();
                    }
                    long t0 = System.nanoTime();
                    Weaver.Outcome outcome = Weaver.weave(bytes);
                    weaveNanos += System.nanoTime() - t0;
                    if (outcome.skipReason() == null) {
                        cache.add(bytes, origin, outcome.bytes(), outcome.polls());
                        cached.add(new Object[] {origin, bytes, outcome.bytes()});
                    }
                    if (outcome.skipReason() != null) {
                        skipped++;
                        System.out.println("SKIP " + n + " " + outcome.skipReason());
                    } else if (outcome.woven()) {
                        wovenClasses++;
                        polls += outcome.polls();
                    } else {
                        noPolls++;
                    }
                    if (outcome.skipReason() == null && !outcome.woven() && outcome.polls() != 0) {
                        skippedWithoutReason++;
                    }
                    String name = n.substring(0, n.length() - ".class".length()).replace('/', '.');
                    Throwable wovenFailure = link(name, woven);
                    if (wovenFailure == null) {
                        linked++;
                        continue;
                    }
                    Throwable plainFailure = link(name, plain);
                    if (plainFailure != null && plainFailure.getClass() == wovenFailure.getClass()
                            && !(wovenFailure instanceof VerifyError)) {
                        unrelated++; // e.g. a missing optional dependency: the same without weaving
                    } else {
                        weavingCaused++;
                        if (wovenFailure instanceof VerifyError) {
                            verifyErrors++;
                        }
                        System.out.println("WEAVING_BROKE " + name + " woven: " + wovenFailure + " | unwoven: "
                                + plainFailure);
                    }
                }
            }
            System.out.printf("LIB %s classes=%d woven=%d polls=%d noPolls=%d skipped=%d linked=%d "
                            + "unrelatedLinkFailures=%d verifyErrors=%d weaveMs=%d%n", lib.getName(), classes,
                    wovenClasses, polls, noPolls, skipped, linked, unrelated, verifyErrors, weaveNanos / 1_000_000);
        }
        System.out.println("WOVEN_LOADER_DEFINED " + woven.defined + " WOVEN_LOADER_WOVEN " + woven.wovenCount);
        cache.persist();
        WovenClassCache again = WovenClassCache.open(cacheDir, 1L);
        long same = 0;
        for (Object[] c : cached) {
            WovenClassCache.Hit hit = again.find((byte[]) c[1], (String) c[0]);
            if (hit != null && Arrays.equals(hit.bytes(), (byte[]) c[2])) {
                same++;
            } else if (cached.size() - same < 10) {
                System.out.println("CACHE_DIFFERS " + c[0] + " " + (hit == null ? "not found" : "other bytes"));
            }
        }
        again.persist();
        try (var files = Files.list(cacheDir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.delete(f);
            }
        }
        Files.delete(cacheDir);
        System.out.println("CACHE kept=" + cached.size() + " same=" + same);
        if (weavingCaused == 0 && skippedWithoutReason == 0 && woven.wovenCount > 0) {
            System.out.println("OK");
        } else {
            System.out.println("FAIL weavingCaused=" + weavingCaused);
        }
    }

    /** Loads and links (verifies) a class without initializing it; returns what went wrong. */
    private static Throwable link(String name, ClassLoader loader) {
        try {
            Class<?> c = Class.forName(name, false, loader);
            c.getDeclaredMethods(); // HotSpot links (and so verifies) the class here
            c.getDeclaredConstructors();
            return null;
        } catch (Throwable t) {
            return t;
        }
    }

    /** Defines the libraries' classes woven; the runtime (Poll) comes from the application loader. */
    static final class WovenLoader extends URLClassLoader {
        long defined;
        long wovenCount;

        WovenLoader(URL[] urls) {
            super("woven", urls, ClassLoader.getPlatformClassLoader());
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            if (name.startsWith("dev.usethread.")) {
                return WeaveWorld.class.getClassLoader().loadClass(name);
            }
            return super.loadClass(name, resolve);
        }

        @Override
        protected Class<?> findClass(String name) throws ClassNotFoundException {
            URL url = findResource(name.replace('.', '/') + ".class");
            if (url == null) {
                throw new ClassNotFoundException(name);
            }
            byte[] bytes;
            try (InputStream in = url.openStream()) {
                bytes = in.readAllBytes();
            } catch (IOException e) {
                throw new ClassNotFoundException(name, e);
            }
            Weaver.Outcome outcome = Weaver.weave(bytes);
            if (outcome.woven()) {
                bytes = outcome.bytes();
                wovenCount++;
            }
            defined++;
            return defineClass(name, bytes, 0, bytes.length);
        }
    }
}
