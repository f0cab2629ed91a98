// Marks the page as scripted, so controls needed only without JavaScript can hide.
document.documentElement.classList.add("js");
