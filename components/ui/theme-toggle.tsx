"use client";
import { useEffect, useState } from "react";

type Theme = "system" | "light" | "dark";
const NEXT: Record<Theme, Theme> = { system: "light", light: "dark", dark: "system" };

/** Cycles system → light → dark; the choice is kept in localStorage and applied as html[data-theme]. */
export function ThemeToggle() {
  const [theme, setTheme] = useState<Theme>("system");
  useEffect(() => {
    setTheme((localStorage.getItem("tributary-theme") as Theme | null) ?? "system");
  }, []);
  const choose = (t: Theme) => {
    setTheme(t);
    if (t === "system") {
      localStorage.removeItem("tributary-theme");
      delete document.documentElement.dataset.theme;
    } else {
      localStorage.setItem("tributary-theme", t);
      document.documentElement.dataset.theme = t;
    }
  };
  return (
    <button
      type="button"
      data-testid="theme-toggle"
      data-theme-choice={theme}
      onClick={() => choose(NEXT[theme])}
      aria-label={`Theme: ${theme}. Switch to ${NEXT[theme]}`}
      style={{ minWidth: 136 }}
    >
      Theme: {theme}
    </button>
  );
}

/** Runs before paint so a stored theme never flashes the other one. */
export const THEME_SCRIPT = `try{var t=localStorage.getItem("tributary-theme");if(t==="light"||t==="dark")document.documentElement.dataset.theme=t}catch(e){}`;
