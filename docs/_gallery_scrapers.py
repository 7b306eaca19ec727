"""A sphinx-gallery image scraper that saves matplotlib animations as animated GIFs.

sphinx-gallery's own animation support embeds a JavaScript player; an animated GIF is a
plain image that every browser plays with no script, and Pillow (a matplotlib dependency)
writes it. Each animation found in an example's globals is saved once, after the code block
that created it, and its figure is then closed so that the matplotlib scraper does not add a
still copy of it.
"""

from pathlib import Path

_done: set[tuple[str, int]] = set()


def gif_animation_scraper(block, block_vars, gallery_conf):
    """Save every new ``matplotlib.animation.Animation`` of the example as a GIF."""
    import matplotlib.pyplot as plt
    from matplotlib.animation import Animation, PillowWriter
    from sphinx_gallery.scrapers import figure_rst

    src = str(block_vars["src_file"])
    paths = []
    for value in list(block_vars["example_globals"].values()):
        if not isinstance(value, Animation) or (src, id(value)) in _done:
            continue
        _done.add((src, id(value)))
        path = Path(next(block_vars["image_path_iterator"])).with_suffix(".gif")
        value.save(path, writer=PillowWriter(fps=getattr(value, "_poc_fps", 8)), dpi=80)
        plt.close(value._fig)
        paths.append(path)
    if not paths:
        return ""
    return figure_rst(paths, gallery_conf["src_dir"])
