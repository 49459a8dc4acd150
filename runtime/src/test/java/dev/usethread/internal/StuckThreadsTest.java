package dev.usethread.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.CharBuffer;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The branches of the diagnosis that need the agent's view (is it installed) or stacks that are hard
 * to hold still; real stacks where a real thread can be held there, built ones otherwise.
 */
class StuckThreadsTest {

    private static StackTraceElement jdk(String className, String method) {
        String file = className.substring(className.lastIndexOf('.') + 1).replaceAll("\\$.*", "") + ".java";
        return new StackTraceElement(null, "java.base", "17", className, method, file, 100);
    }

    private static StackTraceElement app(String className, String method) {
        return new StackTraceElement("app", null, null, className, method, "App.java", 7);
    }

    @Test
    void aRealRegexWithTheAgentSuggestsOptingInItsPackage() throws Exception {
        char[] text = "x".repeat(48).toCharArray();
        CountDownLatch started = new CountDownLatch(1);
        Thread t = new Thread(() -> {
            started.countDown();
            Pattern.compile("((x+)\\2?)+y").matcher(CharBuffer.wrap(text)).matches();
        }, "regex");
        t.setDaemon(true);
        t.start();
        try {
            started.await();
            StackTraceElement[] stack;
            do {
                stack = t.getStackTrace();
            } while (Arrays.stream(stack).noneMatch(f -> f.getClassName().startsWith("java.util.regex.")));
            String why = StuckThreads.explain("regex", Thread.State.RUNNABLE, stack, true, true);
            assertThat(why).startsWith("thread regex is running ").contains("(package java.util.regex)",
                    "add jdk=java.util.regex to the agent's options").doesNotContain("not installed");
        } finally {
            Arrays.fill(text, 'z'); // every branch now fails at once: the thread ends
            t.join(10_000);
        }
    }

    @Test
    void jdkCodeOutsideTheAllowListIsSaidToBeUnweavable() {
        StackTraceElement[] stack = {jdk("java.util.Arrays", "sort"), jdk("java.util.Arrays", "sort"),
            app("com.acme.Sorter", "sortAll")};
        String why = StuckThreads.explain("t", Thread.State.RUNNABLE, stack, true, true);
        assertThat(why).isEqualTo("thread t is running java.util.Arrays.sort(Arrays.java:100) (package java.util),"
                + " called from com.acme.Sorter.sortAll(App.java:7): JDK code that the agent cannot weave, so no"
                + " poll reaches it; it stops once the call returns to woven code");
    }

    @Test
    void theTopFrameMayBeInAnotherJdkPackageThanTheLoop() {
        StackTraceElement[] stack = {jdk("java.lang.String", "charAt"), jdk("java.math.BigInteger", "<init>"),
            app("com.acme.Parser", "parse")};
        String why = StuckThreads.explain("t", Thread.State.RUNNABLE, stack, true, true);
        assertThat(why).contains("is running java.math.BigInteger.<init>(BigInteger.java:100) (package java.math)"
                + " (now in java.lang.String.charAt(String.java:100))", "add jdk=java.math");
    }

    @Test
    void aStaticInitializerIsNamed() {
        StackTraceElement[] stack = {app("com.acme.Table", "fill"), app("com.acme.Table", "<clinit>"),
            app("com.acme.Main", "main")};
        assertThat(StuckThreads.explain("t", Thread.State.RUNNABLE, stack, true, true))
                .contains("inside the static initializer of com.acme.Table", "first poll after the initializer");
    }

    @Test
    void wovenApplicationCodeThatWasNotStoppedPointsAtTheWeavingOptions() {
        StackTraceElement[] stack = {app("com.acme.Loop", "spin")};
        assertThat(StuckThreads.explain("t", Thread.State.RUNNABLE, stack, true, true))
                .isEqualTo("thread t is running com.acme.Loop.spin(App.java:7) (package com.acme), where no woven"
                        + " poll has stopped it: is the class excluded by include=/exclude=, left unwoven (the agent"
                        + " says so on standard error), or was that method already running when the agent wove its"
                        + " class?");
    }

    @Test
    void aJobThatIsNotIntrusiveIsSaidToBeSo() {
        StackTraceElement[] stack = {jdk("java.lang.Object", "wait"), app("com.acme.Loop", "await")};
        assertThat(StuckThreads.explain("t", Thread.State.WAITING, stack, false, true))
                .contains("is in java.lang.Object.wait(Object.java:100)", "options().intrusive(false)");
    }

    @Test
    void anEndedThreadIsSaidToHaveEnded() throws Exception {
        Thread t = new Thread(() -> { }, "short");
        t.start();
        t.join();
        assertThat(StuckThreads.explain(t)).isEqualTo("thread short has ended");
    }

    @Test
    void theAllowListIsOnePlaceAndMatchesSubpackages() {
        assertThat(WeavableJdkPackages.PACKAGES).contains("java.util.regex", "java.math");
        assertThat(WeavableJdkPackages.allowing("java.util.regex")).isEqualTo("java.util.regex");
        assertThat(WeavableJdkPackages.allowing("java.util")).isNull();
        assertThat(WeavableJdkPackages.allowing("java.util.regexp")).isNull();
    }
}
