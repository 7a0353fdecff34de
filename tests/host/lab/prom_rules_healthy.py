"""Every rule group Prometheus reports loaded and healthy (export-e2e.sh)."""
import json, sys
groups = json.loads(sys.argv[1])["data"]["groups"]
rules = [r for g in groups for r in g["rules"]]
bad = [r["name"] for r in rules if r.get("health") not in ("ok", "unknown")]
sys.exit(1 if not rules or bad else 0)
