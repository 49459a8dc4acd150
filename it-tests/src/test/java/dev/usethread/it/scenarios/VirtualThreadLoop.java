package dev.usethread.it.scenarios;

import java.util.concurrent.ThreadFactory;

/** The endless loop on a virtual thread (JDK 21+); built for Java 17, so reached by reflection. */
public final class VirtualThreadLoop {
    public static void main(String[] args) throws Exception {
        Object builder = Thread.class.getMethod("ofVirtual").invoke(null);
        ThreadFactory factory = (ThreadFactory) Class.forName("java.lang.Thread$Builder")
                .getMethod("factory").invoke(builder);
        Harness.run("virtual-thread", EndlessLoop::spin, Harness.inMethod(EndlessLoop.class.getName(), "spin"), factory);
    }
}
