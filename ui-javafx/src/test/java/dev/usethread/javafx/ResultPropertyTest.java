package dev.usethread.javafx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.usethread.CancelEvent;
import dev.usethread.Emitter;
import dev.usethread.Result;
import dev.usethread.ResultState;
import dev.usethread.UseThread;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import javafx.beans.binding.Bindings;
import javafx.beans.binding.StringBinding;
import javafx.beans.property.ReadOnlyObjectProperty;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * javafx-base has no toolkit, so {@code Platform::runLater} cannot run here: a single named thread
 * stands in for the JavaFX application thread.
 */
class ResultPropertyTest {
    private static final String FX = "fx-stand-in";
    private final ExecutorService fxThread = Executors.newSingleThreadExecutor(r -> new Thread(r, FX));

    @AfterEach
    void stop() {
        fxThread.shutdownNow();
    }

    @Test
    void followsTheJobOnTheGivenExecutorInOrder() throws Exception {
        List<Result<Integer>> seen = new CopyOnWriteArrayList<>();
        List<String> threads = new CopyOnWriteArrayList<>();
        CountDownLatch finished = new CountDownLatch(1);
        CountDownLatch go = new CountDownLatch(1); // the listener is added before the job emits
        try (UseThread<Integer> job = UseThread.options().name("count")
                .dependencies(1).useThread((CancelEvent cancel, Emitter<Integer> emit) -> {
                    go.await();
                    for (int i = 1; i <= 300; i++) {
                        emit.emit(i);
                    }
                });
             ResultProperty<Integer> result = ResultProperty.of(job, fxThread)) {
            assertThat(result.get()).as("the current snapshot at once").isNotNull();
            result.addListener((obs, before, after) -> {
                threads.add(Thread.currentThread().getName());
                seen.add(after);
                if (after.state() == ResultState.FINISHED) {
                    finished.countDown();
                }
            });
            go.countDown();
            assertThat(finished.await(60, TimeUnit.SECONDS)).as("FINISHED reached the listener").isTrue();
            assertThat(result.getValue().value()).isEqualTo(300);
            assertThat(result.getBean()).isSameAs(job);
        }
        assertThat(threads).isNotEmpty().allMatch(FX::equals);
        for (int i = 1; i < seen.size(); i++) {
            Integer before = seen.get(i - 1).value();
            if (before != null) {
                assertThat(seen.get(i).value()).as("in order").isGreaterThanOrEqualTo(before);
            }
        }
    }

    @Test
    void closeStopsFollowing() throws Exception {
        try (UseThread<String> job = UseThread.options().useThread(cancel -> "one")) {
            ResultProperty<String> result = ResultProperty.of(job, fxThread);
            awaitState(result, ResultState.FINISHED);
            result.close();
            job.retry();
            job.await(Duration.ofSeconds(60));
            fxThread.submit(() -> { }).get(60, TimeUnit.SECONDS); // any queued update has run
            assertThat(result.get().run()).as("no update after close()").isEqualTo(1);
        }
    }

    @Test
    void rejectsNull() {
        assertThatThrownBy(() -> ResultProperty.of(null, fxThread)).hasMessageContaining("job");
        try (UseThread<String> job = UseThread.options().useThread(cancel -> "x")) {
            assertThatThrownBy(() -> ResultProperty.of(job, null)).hasMessageContaining("fxThread");
        }
    }

    /** The snippet of docs/UI.md, with the stand-in executor where an application passes Platform::runLater. */
    @Test
    void readmeSnippet() throws Exception {
        java.util.concurrent.Executor runLater = fxThread; // in an application: Platform::runLater
        // README snippet start
        UseThread<String> search = UseThread.options().useThread(cancel -> "3 hits");
        ReadOnlyObjectProperty<Result<String>> result = ResultProperty.of(search, runLater);
        StringBinding text = Bindings.createStringBinding(
                () -> result.get().state() + ": " + result.get().value(), result);  // label.textProperty().bind(text)
        // README snippet end
        try (search) {
            awaitState(result, ResultState.FINISHED);
            assertThat(text.get()).isEqualTo("FINISHED: 3 hits");
        }
    }

    private static void awaitState(ReadOnlyObjectProperty<? extends Result<?>> p, ResultState state) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (p.get().state() != state) {
            assertThat(System.nanoTime()).as("state " + state + ", now " + p.get()).isLessThan(deadline);
            Thread.sleep(2);
        }
    }
}
