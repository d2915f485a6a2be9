"""Which projects make the daily post when they do not all fit its tweet budget."""

from __future__ import annotations

from core.models import Post


def rank_projects(projects: dict[str, list[Post]]) -> list[str]:
    """Project keys, most talked-about first: by how many people posted the project, then how many posts,
    then the one waiting longest (earliest message), so a project left out today leads a tie tomorrow.

    projects: each project's posts, keyed by the project's name as the draft compares names."""

    def standing(key: str) -> tuple[int, int, int]:
        posts = projects[key]
        authors = {post.author_link or post.author for post in posts}
        return -len(authors), -len(posts), min(post.message_id for post in posts)

    return sorted(projects, key=standing)
