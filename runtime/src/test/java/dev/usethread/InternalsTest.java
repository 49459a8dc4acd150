package dev.usethread;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.usethread.internal.AgentStatus;
import dev.usethread.internal.CancelScope;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * What application code can reach of the internals cannot cancel, uncancel or unshield another
 * thread, nor fake the agent's status.
 */
class InternalsTest {
    @Test
    void aCallbackGetsOnlyACancelEventNotTheScope() throws Exception {
        AtomicReference<CancelEvent> seen = new AtomicReference<>();
        UseThread<String> job = UseThread.useThread((CancelEvent cancel) -> {
            seen.set(cancel);
            return "done";
        });
        assertThat(job.await(Duration.ofSeconds(20)).value()).isEqualTo("done");
        assertThat(seen.get()).isNotNull().isNotInstanceOf(CancelScope.class);
        assertThat(seen.get().toString()).contains("CancelEvent");
        job.close();
    }

    @Test
    void onlyTheAgentCanMarkItselfInstalled() {
        boolean before = AgentStatus.isInstalled();
        assertThatThrownBy(AgentStatus::markInstalled).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("only the usethread agent");
        assertThat(AgentStatus.isInstalled()).isEqualTo(before);
        assertThat(Cancellation.isIntrusive()).isEqualTo(before);
    }

    @Test
    void aShieldEndsOnlyItsOwnRegion() throws Exception {
        CancelScope.Shield mine = CancelScope.shield();
        AtomicReference<Throwable> other = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                mine.close();
            } catch (Throwable e) {
                other.set(e);
            }
        });
        t.start();
        t.join();
        assertThat(other.get()).isInstanceOf(IllegalStateException.class);
        mine.close();
    }
}
