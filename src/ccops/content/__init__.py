"""Approved patch content: snapshots on each site's distribution point (ccops content)."""
