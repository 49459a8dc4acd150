package com.example;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.usethread.Cancellation;
import dev.usethread.ResultState;
import dev.usethread.UseThread;
import dev.usethread.junit.StopAfter;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class PrimeCounterTest {
    @Test
    void theAgentIsInstalled() {
        assertTrue(Cancellation.isIntrusive(), "run with -javaagent (see the pom's argLine)");
    }

    @Test
    void aJobThatNeverChecksIsCancelled() throws Exception {
        try (UseThread<Long> huge = UseThread.useThread(() -> PrimeCounter.countPrimes(Long.MAX_VALUE))) {
            huge.cancel();
            assertEquals(ResultState.CANCELLED, huge.await(Duration.ofSeconds(30)).state());
        }
    }

    @Test
    void aDeadlineStopsTheCallingThread() {
        Exception e = org.junit.jupiter.api.Assertions.assertThrows(java.util.concurrent.TimeoutException.class,
                () -> Cancellation.withTimeout(Duration.ofMillis(100), () -> PrimeCounter.countPrimes(Long.MAX_VALUE)));
        assertTrue(e.getMessage().contains("PrimeCounter.countPrimes"), e.getMessage());
    }

    @Test
    @StopAfter("10s")
    void smallCountFinishesWithinItsLimit() {
        assertEquals(9592, PrimeCounter.countPrimes(100_000));
    }
}
