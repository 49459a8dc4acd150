package dev.usethread.it.scenarios;

import dev.usethread.Task;
import java.net.URL;
import java.net.URLClassLoader;

/** A class defined by a child-first loader (as in servlet containers and plugin systems). */
public final class ChildFirstLoader {
    static final class ChildFirst extends URLClassLoader {
        ChildFirst(URL[] urls, ClassLoader parent) {
            super("child-first", urls, parent);
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            if (!name.startsWith("dev.usethread.it.childfirst.")) {
                return super.loadClass(name, resolve);
            }
            synchronized (getClassLoadingLock(name)) {
                Class<?> c = findLoadedClass(name);
                return c != null ? c : findClass(name);
            }
        }
    }

    public static void main(String[] args) throws Exception {
        URL classes = ChildFirstLoader.class.getProtectionDomain().getCodeSource().getLocation();
        ClassLoader loader = new ChildFirst(new URL[] {classes}, ChildFirstLoader.class.getClassLoader());
        Class<?> spinner = loader.loadClass("dev.usethread.it.childfirst.Spinner");
        Harness.report("SPINNER_LOADER", spinner.getClassLoader().getName());
        @SuppressWarnings("unchecked")
        Task<Object> task = (Task<Object>) spinner.getDeclaredConstructor().newInstance();
        Harness.run("child-first", task, e -> e.getClassName().equals("dev.usethread.it.childfirst.Spinner"));
    }
}
