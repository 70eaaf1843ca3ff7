"""A bare FastHttpUser loop: how many requests per second one Locust process generates here."""

from locust import FastHttpUser, task


class Loop(FastHttpUser):
    """No wait, one cheap request per iteration."""

    @task
    def ping(self) -> None:
        """GET the bare endpoint."""
        self.client.get("/ping")
