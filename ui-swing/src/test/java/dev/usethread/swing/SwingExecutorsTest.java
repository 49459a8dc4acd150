package dev.usethread.swing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.usethread.CancelEvent;
import dev.usethread.Emitter;
import dev.usethread.Result;
import dev.usethread.ResultState;
import dev.usethread.Subscription;
import dev.usethread.UseThread;
import java.awt.GraphicsEnvironment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.swing.JLabel;
import javax.swing.SwingUtilities;
import org.junit.jupiter.api.Test;

class SwingExecutorsTest {

    @Test
    void runsHeadless() {
        assertThat(GraphicsEnvironment.isHeadless()).as("java.awt.headless (set by the pom)").isTrue();
    }

    @Test
    void everySnapshotIsDeliveredOnTheEdtInOrder() throws Exception {
        List<Result<Integer>> seen = new ArrayList<>(); // touched only on the EDT
        AtomicBoolean offEdt = new AtomicBoolean();
        CountDownLatch terminal = new CountDownLatch(1);
        try (UseThread<Integer> job = UseThread.options().name("count")
                .useThread((CancelEvent cancel, Emitter<Integer> emit) -> {
                    for (int i = 1; i <= 500; i++) {
                        emit.emit(i);
                    }
                });
             Subscription ignored = SwingExecutors.subscribeOnEdt(job, r -> {
                 if (!SwingUtilities.isEventDispatchThread()) {
                     offEdt.set(true);
                 }
                 seen.add(r);
                 if (r.state().isTerminal()) {
                     terminal.countDown();
                 }
             })) {
            assertThat(terminal.await(60, TimeUnit.SECONDS)).as("the terminal snapshot reached the EDT").isTrue();
            assertThat(job.result().state()).isEqualTo(ResultState.FINISHED);
        }
        List<Result<Integer>> copy = onEdt(() -> new ArrayList<>(seen));
        assertThat(offEdt).as("a snapshot was delivered off the EDT").isFalse();
        assertThat(copy.get(copy.size() - 1).state()).isEqualTo(ResultState.FINISHED);
        assertThat(copy.get(copy.size() - 1).value()).isEqualTo(500);
        for (int i = 1; i < copy.size(); i++) {
            Result<Integer> before = copy.get(i - 1);
            Result<Integer> after = copy.get(i);
            assertThat(after.state().ordinal() >= before.state().ordinal()
                    || before.state() == ResultState.WAITING).as("state order %s then %s", before, after).isTrue();
            if (before.value() != null) {
                assertThat(after.value()).as("values in order: %s then %s", before, after)
                        .isGreaterThanOrEqualTo(before.value());
            }
        }
    }

    @Test
    void runsInlineWhenAlreadyOnTheEdt() throws Exception {
        boolean ranBeforeReturn = onEdt(() -> {
            AtomicBoolean ran = new AtomicBoolean();
            SwingExecutors.edt().execute(() -> ran.set(SwingUtilities.isEventDispatchThread()));
            return ran.get();
        });
        assertThat(ranBeforeReturn).isTrue();
    }

    @Test
    void rejectsNull() {
        assertThatThrownBy(() -> SwingExecutors.edt().execute(null)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("command");
        assertThatThrownBy(() -> SwingExecutors.subscribeOnEdt(null, r -> { })).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("job");
    }

    /** The snippet of docs/UI.md: a label that follows a job, updated on the EDT. */
    @Test
    void readmeSnippet() throws Exception {
        JLabel label = onEdt(JLabel::new);
        // README snippet start
        UseThread<Integer> primes = UseThread.options()
                .listenerExecutor(SwingExecutors.edt())       // every snapshot on the EDT, in order
                .useThread(cancel -> countPrimesBelow(100_000));
        primes.subscribe(r -> label.setText(r.state() + " " + (r.value() == null ? "" : r.value())));
        // README snippet end
        try (primes) {
            primes.await(Duration.ofSeconds(60));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!onEdt(label::getText).equals("FINISHED 9592")) {
                assertThat(System.nanoTime()).as("label: " + onEdt(label::getText)).isLessThan(deadline);
                Thread.sleep(5);
            }
        }
    }

    private static int countPrimesBelow(int limit) {
        int found = 0;
        for (int n = 2; n < limit; n++) {
            boolean prime = true;
            for (int d = 2; d * d <= n && prime; d++) {
                prime = n % d != 0;
            }
            found += prime ? 1 : 0;
        }
        return found;
    }

    private static <V> V onEdt(java.util.concurrent.Callable<V> body) throws Exception {
        java.util.concurrent.FutureTask<V> task = new java.util.concurrent.FutureTask<>(body);
        SwingUtilities.invokeAndWait(task);
        return task.get();
    }
}
